package tcpworker

import (
	"encoding/json"
	"fmt"
	"strings"

	tcpv1 "github.com/rr-tcp/rr-tcp/gen/go/rr/tcp/v1"
	"google.golang.org/protobuf/proto"
)

// Event is RoadRunner's wire string of a connection event.
type Event string

// The events; the strings are the schema's TcpEvent value names without TCP_EVENT_ (a test
// checks them against the generated enum).
const (
	EventConnected Event = "CONNECTED"
	EventData      Event = "DATA"
	EventClose     Event = "CLOSE"
	// EventUnknown is any other string or number, as PHP's TcpEvent::Unknown.
	EventUnknown Event = "UNKNOWN"
)

// Verb is the context of a reply: what the server does with the connection.
type Verb string

// The verbs; the strings are the schema's TcpResponse value names without TCP_RESPONSE_.
const (
	Write      Verb = "WRITE"
	WriteClose Verb = "WRITECLOSE"
	Continue   Verb = "CONTINUE"
	Close      Verb = "CLOSE"
)

// Events and Verbs list the known values.
var (
	Events = []Event{EventConnected, EventData, EventClose}
	Verbs  = []Verb{Write, WriteClose, Continue, Close}
)

func knownEvent(name string) Event {
	for _, e := range Events {
		if string(e) == name {
			return e
		}
	}
	return EventUnknown
}

func knownVerb(v Verb) bool {
	for _, known := range Verbs {
		if v == known {
			return true
		}
	}
	return false
}

// Context is the decoded request context.
type Context struct {
	RemoteAddr string
	Server     string
	UUID       string
	Event      Event
}

// ContextError is a context that cannot be decoded.
type ContextError struct {
	Codec string
	Msg   string
}

func (e *ContextError) Error() string { return fmt.Sprintf("%s context: %s", e.Codec, e.Msg) }

// The JSON keys in RoadRunner's order: the fields of rr.tcp.v1.RequestContext.
var contextKeys = []string{"remote_addr", "server", "uuid", "event"}

// DecodeJSONContext decodes RoadRunner's JSON context (frame flags 0x00).
func DecodeJSONContext(data []byte) (Context, error) {
	// A map rather than a struct: encoding/json matches struct keys case-insensitively, while
	// PHP's json_decode (what RoadRunner's workers use) is exact.
	var fields map[string]any
	if err := json.Unmarshal(data, &fields); err != nil || fields == nil {
		return Context{}, &ContextError{"json", fmt.Sprintf("not a JSON object %q: %v", truncate(data), err)}
	}
	values := make(map[string]string, len(contextKeys))
	for _, key := range contextKeys {
		switch value := fields[key].(type) {
		case nil:
		case string:
			values[key] = value
		default:
			return Context{}, &ContextError{"json", fmt.Sprintf("context key %q must be a string, got %v", key, value)}
		}
	}
	return Context{RemoteAddr: values["remote_addr"], Server: values["server"], UUID: values["uuid"], Event: knownEvent(values["event"])}, nil
}

// EventFromProto is the wire string of a protobuf event: its value name without TCP_EVENT_, so
// the schema is where the strings come from; EventUnknown for UNSPECIFIED and unknown numbers.
func EventFromProto(e tcpv1.TcpEvent) Event {
	name, ok := tcpv1.TcpEvent_name[int32(e)]
	if !ok {
		return EventUnknown
	}
	return knownEvent(strings.TrimPrefix(name, "TCP_EVENT_"))
}

// DecodeProtoContext decodes an rr.tcp.v1.RequestContext (frame flag CODEC_PROTO, 0x80).
func DecodeProtoContext(data []byte) (Context, error) {
	var message tcpv1.RequestContext
	if err := proto.Unmarshal(data, &message); err != nil {
		return Context{}, &ContextError{"proto", fmt.Sprintf("invalid protobuf context (%d bytes): %v", len(data), err)}
	}
	return Context{RemoteAddr: message.GetRemoteAddr(), Server: message.GetServer(), UUID: message.GetUuid(), Event: EventFromProto(message.GetEvent())}, nil
}

func truncate(data []byte) []byte {
	if len(data) > 200 {
		return data[:200]
	}
	return data
}
