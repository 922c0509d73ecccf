// Package tcpworker is a TCP worker for rr-tcp and RoadRunner: the relay, the pid handshake and
// the event loop, decoding RoadRunner's JSON context and rr-tcp's protobuf one.
//
//	err := tcpworker.Run(func(r *tcpworker.Request) (tcpworker.Response, error) {
//		return tcpworker.Response{Verb: tcpworker.Write, Body: r.Body}, nil
//	})
package tcpworker

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"

	"github.com/rr-tcp/rr-tcp/examples/go/goridge"
)

// Request is one event of a client connection.
type Request struct {
	Context
	// Body is the client's message for DATA (delimiter included); empty otherwise.
	Body []byte
	// Codec is how the server encoded the context: "json" or "proto".
	Codec string
}

// Response is the answer to a request.
type Response struct {
	Verb Verb
	Body []byte
}

// Handler answers one request. An error (or a panic) is sent as an ERROR frame: the server
// closes that client and keeps the worker.
type Handler func(*Request) (Response, error)

// Worker is the worker side of one relay: one request at a time, exactly one reply to each.
type Worker struct {
	in            io.Reader
	out           io.Writer
	closer        io.Closer
	awaitingReply bool
	// The current request's event id (rr-tcp's second option), echoed in its reply; 0 under
	// RoadRunner, which sends none.
	eventID uint32
}

// New returns a worker reading frames from in and writing them to out.
func New(in io.Reader, out io.Writer) *Worker {
	return &Worker{in: bufio.NewReaderSize(in, 64*1024), out: out}
}

// FromEnv returns a worker on the relay RR_RELAY names: pipes (default), tcp://host:port or
// unix:///path.sock.
func FromEnv() (*Worker, error) {
	relay := os.Getenv("RR_RELAY")
	switch {
	case relay == "" || relay == "pipes":
		out := os.Stdout
		// Frames go to stdout, so nothing else may: fmt.Print and friends write to whatever
		// os.Stdout is when called, which from here on is stderr (the server's log).
		os.Stdout = os.Stderr
		return New(os.Stdin, out), nil
	case strings.HasPrefix(relay, "tcp://"), strings.HasPrefix(relay, "unix://"):
		network, address, _ := strings.Cut(relay, "://")
		conn, err := net.Dial(network, address)
		if err != nil {
			return nil, fmt.Errorf("RR_RELAY=%s: %w", relay, err)
		}
		w := New(conn, conn)
		w.closer = conn
		return w, nil
	default:
		return nil, fmt.Errorf("RR_RELAY=%q: expected pipes, tcp://host:port or unix:///path", relay)
	}
}

// Run serves handler on the relay from the environment until the server stops the worker.
func Run(handler Handler) error {
	w, err := FromEnv()
	if err != nil {
		return err
	}
	return w.Serve(handler)
}

// WaitRequest returns the next request, or io.EOF when the server asks the worker to stop or the
// relay closes. It answers the pid handshake itself, and answers a request whose context cannot be
// decoded with an ERROR frame, then goes on waiting.
func (w *Worker) WaitRequest() (*Request, error) {
	if w.awaitingReply {
		return nil, errors.New("tcpworker: the previous request has no reply yet; the server waits for exactly one per request")
	}
	for {
		frame, err := goridge.Read(w.in)
		if err != nil {
			return nil, err
		}
		if frame.Flags&goridge.Control != 0 {
			stop, err := w.control(frame)
			if err != nil || stop {
				if err == nil {
					err = io.EOF
				}
				return nil, err
			}
			continue
		}
		if frame.Byte10&(goridge.Byte10Pong|goridge.Byte10Stop) != 0 {
			// Stream bookkeeping, which the TCP plugin never sends; nothing to answer.
			continue
		}
		request, eventID, err := decodeRequest(frame)
		w.eventID = eventID
		if err != nil {
			if err := w.send(goridge.EncodeErrorReply(err.Error(), eventID)); err != nil {
				return nil, err
			}
			continue
		}
		w.awaitingReply = true
		return request, nil
	}
}

func decodeRequest(frame *goridge.Frame) (*Request, uint32, error) {
	contextBytes, body, eventID, err := goridge.SplitRequest(frame)
	if err != nil {
		return nil, eventID, err
	}
	request := &Request{Body: body, Codec: "json"}
	if frame.Flags&goridge.CodecProto != 0 {
		request.Codec = "proto"
		request.Context, err = DecodeProtoContext(contextBytes)
	} else {
		request.Context, err = DecodeJSONContext(contextBytes)
	}
	return request, eventID, err
}

// control handles a control frame and reports whether it asks the worker to stop.
func (w *Worker) control(frame *goridge.Frame) (bool, error) {
	var command struct {
		Pid  int  `json:"pid"`
		Stop bool `json:"stop"`
	}
	_ = json.Unmarshal(frame.Payload, &command)
	switch {
	case command.Pid != 0:
		// Flags 0x01 only, as PHP's worker answers. In socket relay mode the server matches this
		// pid to the process it spawned, so it must be this process's own.
		// It reads protobuf contexts too (rr.goridge.v1.ControlMessage), so rr-tcp may send them,
		// and echoes event ids, so rr-tcp can tell a late second reply from the next one's.
		hello := struct {
			Pid           int      `json:"pid"`
			ContextCodecs []string `json:"context_codecs"`
			EchoEventID   bool     `json:"echo_event_id"`
		}{os.Getpid(), []string{"proto"}, true}
		reply, err := goridge.EncodeControl(hello, goridge.Control)
		if err != nil {
			return false, err
		}
		return false, w.send(reply)
	case command.Stop:
		return true, nil
	default:
		return false, fmt.Errorf("tcpworker: undefined control frame %q", frame.Payload)
	}
}

// Respond answers the current request with a verb and a body.
func (w *Worker) Respond(verb Verb, body []byte) error {
	if !knownVerb(verb) {
		return fmt.Errorf("tcpworker: not a verb: %q", verb)
	}
	return w.reply(goridge.EncodeReply([]byte(verb), body, 0, w.eventID))
}

// Error answers the current request with an ERROR frame.
func (w *Worker) Error(message string) error {
	return w.reply(goridge.EncodeErrorReply(message, w.eventID))
}

func (w *Worker) reply(frame []byte) error {
	w.awaitingReply = false
	return w.send(frame)
}

func (w *Worker) send(frame []byte) error {
	// One write per frame, so frames never interleave.
	_, err := w.out.Write(frame)
	return err
}

// Serve runs handler for every request until the server stops the worker (then it returns nil).
func (w *Worker) Serve(handler Handler) error {
	if w.closer != nil {
		defer w.closer.Close()
	}
	for {
		request, err := w.WaitRequest()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		response, err := call(handler, request)
		if err == nil && !knownVerb(response.Verb) {
			err = fmt.Errorf("handler answered with %q, not a verb", response.Verb)
		}
		if err != nil {
			err = w.Error(err.Error())
		} else {
			err = w.Respond(response.Verb, response.Body)
		}
		if err != nil {
			return err
		}
	}
}

// call runs the handler, turning a panic into an error: one failing event must not take the
// worker down, as RoadRunner keeps a worker that reported an error.
func call(handler Handler, request *Request) (response Response, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	return handler(request)
}
