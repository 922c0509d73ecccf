// The Go side of the cross-language tests (test/bindings/*.test.ts build and run it). A module of
// its own, so the example module holds only the example; offline like it (see examples/go/go.mod).
module github.com/rr-tcp/rr-tcp/test/bindings/go

go 1.19

require (
	github.com/rr-tcp/rr-tcp/examples/go v0.0.0
	github.com/rr-tcp/rr-tcp/gen/go v0.0.0
	google.golang.org/protobuf v1.28.1
)

replace github.com/rr-tcp/rr-tcp/examples/go => ../../../examples/go

replace github.com/rr-tcp/rr-tcp/gen/go => ../../../gen/go

replace google.golang.org/protobuf => /usr/share/gocode/src/google.golang.org/protobuf
