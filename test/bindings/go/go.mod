// The Go side of the cross-language tests (test/bindings/*.test.ts build and run it). A module of
// its own, so the example module holds only the example. It builds only in the checkout's
// workspace (../../../go.work), which also resolves the example module it imports.
module github.com/rr-tcp/rr-tcp/test/bindings/go

go 1.19

require (
	github.com/rr-tcp/rr-tcp/gen/go v1.1.0
	google.golang.org/protobuf v1.28.1
)
