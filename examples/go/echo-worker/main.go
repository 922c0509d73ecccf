// The echo worker in Go, the same behaviour as examples/echo-worker.ts:
//
//	CONNECTED          -> CONTINUE
//	DATA "quit\r\n"    -> WRITECLOSE "bye\r\n"   (trailing \r\n or \n ignored)
//	DATA anything else -> WRITE the same bytes
//	CLOSE              -> CONTINUE (the server waits for a reply to CLOSE too, then ignores it)
//
// Build it once and point server.command at the binary:
//
//	cd examples/go && GOPROXY=off go build -o echo-worker/echo-worker ./echo-worker
package main

import (
	"bytes"
	"fmt"
	"os"

	"github.com/rr-tcp/rr-tcp/examples/go/tcpworker"
)

func echo(request *tcpworker.Request) (tcpworker.Response, error) {
	if request.Event != tcpworker.EventData {
		return tcpworker.Response{Verb: tcpworker.Continue}, nil
	}
	if bytes.Equal(withoutLineEnd(request.Body), []byte("quit")) {
		return tcpworker.Response{Verb: tcpworker.WriteClose, Body: []byte("bye\r\n")}, nil
	}
	return tcpworker.Response{Verb: tcpworker.Write, Body: request.Body}, nil
}

func withoutLineEnd(body []byte) []byte {
	if bytes.HasSuffix(body, []byte("\r\n")) {
		return body[:len(body)-2]
	}
	return bytes.TrimSuffix(body, []byte("\n"))
}

func main() {
	if err := tcpworker.Run(echo); err != nil {
		fmt.Fprintln(os.Stderr, "echo-worker:", err)
		os.Exit(1)
	}
}
