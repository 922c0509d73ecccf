// Command xlang is the Go side of the cross-language tests; test/bindings/*.test.ts run it.
//
//	xlang frames FIXTURE    decode and re-encode test/fixtures/goridge-frames.json
//	xlang decode FIXTURE    decode ts-encoded.json: contexts and messages, field by field
//	xlang encode FIXTURE    encode the vectors of ts-encoded.json from their fields
//	xlang names             the worker's event and verb strings next to the schema's
//	xlang serve-failing     a worker that panics on DATA "boom...", prints on "print...", echoes
//
// Everything is printed as JSON for the TypeScript test to compare; this program asserts nothing
// itself, so a mismatch shows up as a field-level diff in vitest.
package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing/iotest"

	"github.com/rr-tcp/rr-tcp/examples/go/goridge"
	"github.com/rr-tcp/rr-tcp/examples/go/tcpworker"
	tcpv1 "github.com/rr-tcp/rr-tcp/gen/go/rr/tcp/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "xlang:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 1 && args[0] == "serve-failing" {
		return serveFailing()
	}
	var result any
	var err error
	switch {
	case len(args) == 2 && args[0] == "frames":
		result, err = frames(args[1])
	case len(args) == 2 && args[0] == "decode":
		result, err = decode(args[1])
	case len(args) == 2 && args[0] == "encode":
		result, err = encode(args[1])
	case len(args) == 1 && args[0] == "names":
		result = names()
	default:
		return fmt.Errorf("usage: xlang frames|decode|encode FIXTURE, xlang names, xlang serve-failing")
	}
	if err != nil {
		return err
	}
	out := json.NewEncoder(os.Stdout)
	out.SetEscapeHTML(false)
	out.SetIndent("", " ")
	return out.Encode(result)
}

func load(path string, into any) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	decoder := json.NewDecoder(bytes.NewReader(raw))
	// Numbers stay exact: 64-bit fields of the vectors go beyond float64's 2^53 safely this way.
	decoder.UseNumber()
	return decoder.Decode(into)
}

func reencode(frame *goridge.Frame) string {
	out, err := goridge.Encode(frame.Flags, frame.Options, frame.Payload, frame.Byte10)
	if err != nil {
		return "error: " + err.Error()
	}
	return hex.EncodeToString(out)
}

func frames(path string) (any, error) {
	var fixture struct {
		Frames []struct{ Name, Hex string }
	}
	if err := load(path, &fixture); err != nil {
		return nil, err
	}
	var entries []map[string]any
	var stream []byte
	for _, fx := range fixture.Frames {
		raw, err := hex.DecodeString(fx.Hex)
		if err != nil {
			return nil, err
		}
		stream = append(stream, raw...)
		frame, err := goridge.Decode(raw)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", fx.Name, err)
		}
		entry := map[string]any{
			"name": fx.Name, "version": frame.Version, "flags": frame.Flags, "options": frame.Options,
			"byte10": frame.Byte10, "byte11": frame.Byte11,
			"payload_hex": hex.EncodeToString(frame.Payload), "reencoded_hex": reencode(frame),
		}
		// The helpers a worker uses for each kind of frame must give the same bytes too.
		switch {
		case frame.Flags&goridge.Control != 0:
			var message map[string]any
			decoder := json.NewDecoder(bytes.NewReader(frame.Payload))
			decoder.UseNumber()
			if err := decoder.Decode(&message); err != nil {
				return nil, err
			}
			out, err := goridge.EncodeControl(message, frame.Flags)
			if err != nil {
				return nil, err
			}
			entry["helper_hex"] = hex.EncodeToString(out)
		case frame.Flags&goridge.Error != 0:
			entry["helper_hex"] = hex.EncodeToString(goridge.EncodeError(string(frame.Payload)))
		default:
			context, body, err := goridge.SplitPayload(frame)
			if err != nil {
				return nil, err
			}
			entry["context"] = string(context)
			entry["body_hex"] = hex.EncodeToString(body)
			entry["helper_hex"] = hex.EncodeToString(goridge.EncodePayload(context, body, frame.Flags))
		}
		entries = append(entries, entry)
	}
	// The whole session as one stream read one byte at a time, as a pipe may deliver it.
	reader := iotest.OneByteReader(bytes.NewReader(stream))
	reread := []string{}
	for {
		frame, err := goridge.Read(reader)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("stream: %w", err)
		}
		reread = append(reread, reencode(frame))
	}
	return map[string]any{"frames": entries, "stream": reread}, nil
}

type contextVector struct {
	Name   string `json:"name"`
	Fields struct {
		RemoteAddr string      `json:"remote_addr"`
		Server     string      `json:"server"`
		UUID       string      `json:"uuid"`
		Event      json.Number `json:"event"`
	} `json:"fields"`
	JSONHex  string `json:"json_hex"`
	ProtoHex string `json:"proto_hex"`
}

type messageVector struct {
	Name     string         `json:"name"`
	Type     string         `json:"type"`
	Fields   map[string]any `json:"fields"`
	ProtoHex string         `json:"proto_hex"`
}

type tsFixture struct {
	Contexts []contextVector `json:"contexts"`
	Messages []messageVector `json:"messages"`
}

func requestFields(c tcpworker.Context) map[string]any {
	return map[string]any{"remote_addr": c.RemoteAddr, "server": c.Server, "uuid": c.UUID, "event": string(c.Event)}
}

func decode(path string) (any, error) {
	var fixture tsFixture
	if err := load(path, &fixture); err != nil {
		return nil, err
	}
	contexts := []map[string]any{}
	for _, vector := range fixture.Contexts {
		protoBytes, _ := hex.DecodeString(vector.ProtoHex)
		jsonBytes, _ := hex.DecodeString(vector.JSONHex)
		var message tcpv1.RequestContext
		if err := proto.Unmarshal(protoBytes, &message); err != nil {
			return nil, fmt.Errorf("%s: %w", vector.Name, err)
		}
		protoRequest, err := tcpworker.DecodeProtoContext(protoBytes)
		if err != nil {
			return nil, err
		}
		jsonRequest, err := tcpworker.DecodeJSONContext(jsonBytes)
		if err != nil {
			return nil, err
		}
		contexts = append(contexts, map[string]any{
			"name": vector.Name,
			// Through the generated getters, as a worker author would read them.
			"proto_fields": map[string]any{"remote_addr": message.GetRemoteAddr(), "server": message.GetServer(), "uuid": message.GetUuid(), "event": int32(message.GetEvent())},
			// Through the worker's own decoders, what a handler gets.
			"proto_request": requestFields(protoRequest),
			"json_request":  requestFields(jsonRequest),
		})
	}
	messages := []map[string]any{}
	for _, vector := range fixture.Messages {
		message, err := newMessage(vector.Type)
		if err != nil {
			return nil, err
		}
		raw, _ := hex.DecodeString(vector.ProtoHex)
		if err := proto.Unmarshal(raw, message.Interface()); err != nil {
			return nil, fmt.Errorf("%s: %w", vector.Name, err)
		}
		messages = append(messages, map[string]any{"name": vector.Name, "type": vector.Type, "fields": dump(message)})
	}
	return map[string]any{"contexts": contexts, "messages": messages}, nil
}

// serverInfo is RoadRunner's context struct (tcp plugin handler/events.go): its JSON is the
// reference encoding of a context.
type serverInfo struct {
	RemoteAddr string `json:"remote_addr"`
	Server     string `json:"server"`
	UUID       string `json:"uuid"`
	Event      string `json:"event"`
}

func encode(path string) (any, error) {
	var fixture tsFixture
	if err := load(path, &fixture); err != nil {
		return nil, err
	}
	contexts := []map[string]any{}
	for _, vector := range fixture.Contexts {
		f := vector.Fields
		event, err := f.Event.Int64()
		if err != nil {
			return nil, err
		}
		message := &tcpv1.RequestContext{RemoteAddr: f.RemoteAddr, Server: f.Server, Uuid: f.UUID, Event: tcpv1.TcpEvent(event)}
		protoBytes, err := proto.Marshal(message)
		if err != nil {
			return nil, err
		}
		jsonBytes, err := json.Marshal(serverInfo{f.RemoteAddr, f.Server, f.UUID, string(tcpworker.EventFromProto(tcpv1.TcpEvent(event)))})
		if err != nil {
			return nil, err
		}
		contexts = append(contexts, map[string]any{"name": vector.Name, "json": string(jsonBytes), "proto_hex": hex.EncodeToString(protoBytes)})
	}
	messages := []map[string]any{}
	for _, vector := range fixture.Messages {
		message, err := newMessage(vector.Type)
		if err != nil {
			return nil, err
		}
		if err := fill(message, vector.Fields); err != nil {
			return nil, fmt.Errorf("%s: %w", vector.Name, err)
		}
		// Deterministic: map entries sorted by key, so the fixture is stable.
		raw, err := proto.MarshalOptions{Deterministic: true}.Marshal(message.Interface())
		if err != nil {
			return nil, err
		}
		messages = append(messages, map[string]any{"name": vector.Name, "type": vector.Type, "proto_hex": hex.EncodeToString(raw)})
	}
	return map[string]any{
		"about":    "Encoded by Go (gen/go via Debian's google.golang.org/protobuf, test/bindings/go) from the fields of ts-encoded.json, for TypeScript to decode field by field.",
		"contexts": contexts,
		"messages": messages,
	}, nil
}

func newMessage(name string) (protoreflect.Message, error) {
	mt, err := protoregistry.GlobalTypes.FindMessageByName(protoreflect.FullName(name))
	if err != nil {
		return nil, fmt.Errorf("message type %s: %w", name, err)
	}
	return mt.New(), nil
}

// dump writes every field of a message in the neutral form of test/bindings/vectors.ts.
func dump(m protoreflect.Message) map[string]any {
	out := map[string]any{}
	fields := m.Descriptor().Fields()
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		name := string(fd.Name())
		switch {
		case fd.IsMap():
			entries := map[string]any{}
			m.Get(fd).Map().Range(func(k protoreflect.MapKey, v protoreflect.Value) bool {
				entries[k.String()] = dumpValue(fd.MapValue(), v)
				return true
			})
			out[name] = entries
		case fd.IsList():
			list := m.Get(fd).List()
			items := make([]any, list.Len())
			for j := range items {
				items[j] = dumpValue(fd, list.Get(j))
			}
			out[name] = items
		case fd.Message() != nil && !m.Has(fd):
			out[name] = nil
		default:
			out[name] = dumpValue(fd, m.Get(fd))
		}
	}
	return out
}

func dumpValue(fd protoreflect.FieldDescriptor, v protoreflect.Value) any {
	switch fd.Kind() {
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return dump(v.Message())
	case protoreflect.BytesKind:
		return hex.EncodeToString(v.Bytes())
	case protoreflect.EnumKind:
		return int32(v.Enum())
	default:
		return v.Interface()
	}
}

// fill is the reverse of dump: it sets every field of m from its neutral form.
func fill(m protoreflect.Message, fields map[string]any) error {
	descriptors := m.Descriptor().Fields()
	for i := 0; i < descriptors.Len(); i++ {
		fd := descriptors.Get(i)
		raw := fields[string(fd.Name())]
		switch {
		case fd.IsMap():
			entries, _ := raw.(map[string]any)
			keys := make([]string, 0, len(entries))
			for k := range entries {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			target := m.Mutable(fd).Map()
			for _, k := range keys {
				value, err := fillValue(fd.MapValue(), entries[k], target.NewValue)
				if err != nil {
					return err
				}
				target.Set(protoreflect.ValueOfString(k).MapKey(), value)
			}
		case fd.IsList():
			items, _ := raw.([]any)
			target := m.Mutable(fd).List()
			for _, item := range items {
				value, err := fillValue(fd, item, target.NewElement)
				if err != nil {
					return err
				}
				target.Append(value)
			}
		case fd.Message() != nil:
			if raw != nil {
				// Mutable marks the field present even when every sub-field is zero (a Duration
				// of 0s is not "unset").
				if err := fill(m.Mutable(fd).Message(), raw.(map[string]any)); err != nil {
					return err
				}
			}
		default:
			value, err := scalar(fd, raw)
			if err != nil {
				return fmt.Errorf("%s: %w", fd.FullName(), err)
			}
			m.Set(fd, value)
		}
	}
	return nil
}

func fillValue(fd protoreflect.FieldDescriptor, raw any, newValue func() protoreflect.Value) (protoreflect.Value, error) {
	if fd.Message() != nil {
		value := newValue()
		return value, fill(value.Message(), raw.(map[string]any))
	}
	return scalar(fd, raw)
}

func scalar(fd protoreflect.FieldDescriptor, raw any) (protoreflect.Value, error) {
	switch fd.Kind() {
	case protoreflect.StringKind:
		return protoreflect.ValueOfString(raw.(string)), nil
	case protoreflect.BoolKind:
		return protoreflect.ValueOfBool(raw.(bool)), nil
	case protoreflect.BytesKind:
		b, err := hex.DecodeString(raw.(string))
		return protoreflect.ValueOfBytes(b), err
	}
	number := raw.(json.Number).String()
	switch fd.Kind() {
	case protoreflect.EnumKind, protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		n, err := strconv.ParseInt(number, 10, 32)
		if fd.Kind() == protoreflect.EnumKind {
			return protoreflect.ValueOfEnum(protoreflect.EnumNumber(n)), err
		}
		return protoreflect.ValueOfInt32(int32(n)), err
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		n, err := strconv.ParseUint(number, 10, 32)
		return protoreflect.ValueOfUint32(uint32(n)), err
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		n, err := strconv.ParseInt(number, 10, 64)
		return protoreflect.ValueOfInt64(n), err
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		n, err := strconv.ParseUint(number, 10, 64)
		return protoreflect.ValueOfUint64(n), err
	default:
		return protoreflect.Value{}, fmt.Errorf("kind %v is not used by the schema's vectors", fd.Kind())
	}
}

func names() any {
	schema := func(names map[int32]string, prefix string) []string {
		numbers := make([]int, 0, len(names))
		for n := range names {
			if n != 0 {
				numbers = append(numbers, int(n))
			}
		}
		sort.Ints(numbers)
		out := []string{}
		for _, n := range numbers {
			out = append(out, strings.TrimPrefix(names[int32(n)], prefix))
		}
		return out
	}
	return map[string]any{
		"events":        tcpworker.Events,
		"verbs":         tcpworker.Verbs,
		"schema_events": schema(tcpv1.TcpEvent_name, "TCP_EVENT_"),
		"schema_verbs":  schema(tcpv1.TcpResponse_name, "TCP_RESPONSE_"),
	}
}

func serveFailing() error {
	return tcpworker.Run(func(request *tcpworker.Request) (tcpworker.Response, error) {
		if request.Event == tcpworker.EventData && bytes.HasPrefix(request.Body, []byte("boom")) {
			// A panic, not an error: the worker must survive the harder case too.
			panic("boom requested by the client")
		}
		if request.Event == tcpworker.EventData && bytes.HasPrefix(request.Body, []byte("print")) {
			fmt.Println("stray output from a handler")
		}
		if request.Event == tcpworker.EventData {
			return tcpworker.Response{Verb: tcpworker.Write, Body: request.Body}, nil
		}
		return tcpworker.Response{Verb: tcpworker.Continue}, nil
	})
}
