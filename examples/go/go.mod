// The Go echo worker and its small SDK (goridge frames, TcpWorker). Offline by design: the
// generated bindings come from this repository (gen/go) and the protobuf runtime from Debian's
// golang-google-protobuf-dev, so it builds with GOPROXY=off. Outside Debian, drop the second
// replace to fetch google.golang.org/protobuf v1.28.1 or later.
module github.com/rr-tcp/rr-tcp/examples/go

go 1.19

require (
	github.com/rr-tcp/rr-tcp/gen/go v0.0.0
	google.golang.org/protobuf v1.28.1
)

replace github.com/rr-tcp/rr-tcp/gen/go => ../../gen/go

replace google.golang.org/protobuf => /usr/share/gocode/src/google.golang.org/protobuf
