// The Go echo worker and its small SDK (goridge frames, TcpWorker), on the bindings module
// github.com/rr-tcp/rr-tcp/gen/go, whose version is the schema's. In this checkout the workspace
// ../../go.work resolves it from gen/go and takes google.golang.org/protobuf from Debian's
// golang-google-protobuf-dev, so it builds offline with GOPROXY=off; copied elsewhere, this
// go.mod works as it is (run `go mod tidy` once for go.sum).
module github.com/rr-tcp/rr-tcp/examples/go

go 1.19

require (
	github.com/rr-tcp/rr-tcp/gen/go v1.1.0
	google.golang.org/protobuf v1.28.1
)
