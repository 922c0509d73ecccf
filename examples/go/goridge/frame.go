// Package goridge encodes and decodes goridge frames, the framing of RoadRunner's worker relay.
//
// Layout (integers little-endian): byte 0 = version<<4 | header length in 32-bit words
// (3 + options); byte 1 = flags; bytes 2..5 = payload length; bytes 6..9 = CRC32-IEEE of bytes
// 0..5 only; byte 10 = stream bits; byte 11 = 0; then the options (uint32 each, at most 10) and
// the payload. A TCP request or reply is a payload frame: one option, the context length, and a
// payload of context followed by body.
package goridge

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"

	goridgev1 "github.com/rr-tcp/rr-tcp/gen/go/rr/goridge/v1"
)

// The numbers of the frame come from the schema (proto/rr/goridge/v1/goridge.proto).

// Version is the protocol version written in every header.
const Version = byte(goridgev1.HeaderConstant_HEADER_CONSTANT_VERSION)

// Frame flags (byte 1).
const (
	Control      = byte(goridgev1.FrameFlag_FRAME_FLAG_CONTROL)
	CodecRaw     = byte(goridgev1.FrameFlag_FRAME_FLAG_CODEC_RAW)
	CodecJSON    = byte(goridgev1.FrameFlag_FRAME_FLAG_CODEC_JSON)
	CodecMsgpack = byte(goridgev1.FrameFlag_FRAME_FLAG_CODEC_MSGPACK)
	CodecGob     = byte(goridgev1.FrameFlag_FRAME_FLAG_CODEC_GOB)
	Error        = byte(goridgev1.FrameFlag_FRAME_FLAG_ERROR)
	CodecProto   = byte(goridgev1.FrameFlag_FRAME_FLAG_CODEC_PROTO)
)

// Stream bits (byte 10); the TCP plugin sets none of them.
const (
	Byte10Stream = byte(goridgev1.StreamBit_STREAM_BIT_STREAM)
	Byte10Stop   = byte(goridgev1.StreamBit_STREAM_BIT_STOP)
	Byte10Ping   = byte(goridgev1.StreamBit_STREAM_BIT_PING)
	Byte10Pong   = byte(goridgev1.StreamBit_STREAM_BIT_PONG)
)

// HeaderSize is the fixed part of a header; MaxOptions the most options a header holds;
// MaxPayload the largest payload Read accepts (rr-tcp's default limit), so that a corrupt length
// fails the read instead of allocating up to 4 GiB.
const (
	HeaderSize = int(goridgev1.HeaderOffset_HEADER_OFFSET_OPTIONS)
	MaxOptions = int(goridgev1.HeaderConstant_HEADER_CONSTANT_MAX_OPTIONS)
	MaxPayload = 256 << 20
	baseWords  = int(goridgev1.HeaderConstant_HEADER_CONSTANT_BASE_WORDS)
)

// Frame is one decoded frame.
type Frame struct {
	Version byte
	Flags   byte
	Byte10  byte
	Byte11  byte
	Options []uint32
	Payload []byte
}

// ErrFrame marks a frame that cannot be decoded; errors.Is(err, ErrFrame) tells it from I/O errors.
var ErrFrame = errors.New("goridge frame")

func frameError(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrFrame, fmt.Sprintf(format, args...))
}

// Encode returns one whole frame, so that it can go out in a single write.
func Encode(flags byte, options []uint32, payload []byte, byte10 byte) ([]byte, error) {
	if len(options) > MaxOptions {
		return nil, frameError("at most %d options, got %d", MaxOptions, len(options))
	}
	words := baseWords + len(options)
	out := make([]byte, words*4+len(payload))
	out[0] = Version<<4 | byte(words)
	out[1] = flags
	binary.LittleEndian.PutUint32(out[2:], uint32(len(payload)))
	// The CRC covers bytes 0..5, so byte 0 must already count the options.
	binary.LittleEndian.PutUint32(out[6:], crc32.ChecksumIEEE(out[:6]))
	out[10] = byte10
	for i, option := range options {
		binary.LittleEndian.PutUint32(out[HeaderSize+4*i:], option)
	}
	copy(out[words*4:], payload)
	return out, nil
}

// EventIDOption is the index of a payload frame's event id, the second option rr-tcp sends to a
// worker that echoes ids (rr.goridge.v1.PayloadOption). Event ids are never 0.
const EventIDOption = int(goridgev1.PayloadOption_PAYLOAD_OPTION_EVENT_ID)

// EncodePayload returns a payload frame: option 0 is the context length.
func EncodePayload(context, body []byte, flags byte) []byte {
	return EncodeReply(context, body, flags, 0)
}

// EncodeReply returns a payload frame answering the request with event id eventID: its options
// are the context length and eventID, or the context length alone when eventID is 0 (a request
// from RoadRunner, which sends no ids).
func EncodeReply(context, body []byte, flags byte, eventID uint32) []byte {
	payload := make([]byte, 0, len(context)+len(body))
	payload = append(append(payload, context...), body...)
	options := []uint32{uint32(len(context))}
	if eventID != 0 {
		options = append(options, eventID)
	}
	out, _ := Encode(flags, options, payload, 0)
	return out
}

// EncodeControl returns a control frame carrying message as compact JSON ({"pid":123}).
func EncodeControl(message any, flags byte) ([]byte, error) {
	payload, err := json.Marshal(message)
	if err != nil {
		return nil, err
	}
	return Encode(flags, nil, payload, 0)
}

// EncodeError returns an ERROR frame; RoadRunner logs the message and closes the client.
func EncodeError(message string) []byte {
	return EncodeErrorReply(message, 0)
}

// EncodeErrorReply returns an ERROR frame answering the request with event id eventID: options
// [0, eventID], or none when eventID is 0.
func EncodeErrorReply(message string, eventID uint32) []byte {
	var options []uint32
	if eventID != 0 {
		options = []uint32{0, eventID}
	}
	out, _ := Encode(Error, options, []byte(message), 0)
	return out
}

// Read reads the next frame. It returns io.EOF when the stream ends between frames,
// io.ErrUnexpectedEOF when it ends inside one, and an ErrFrame error for a bad header.
func Read(r io.Reader) (*Frame, error) {
	header := make([]byte, HeaderSize)
	if _, err := io.ReadFull(r, header); err != nil {
		return nil, err
	}
	stored := binary.LittleEndian.Uint32(header[6:])
	if computed := crc32.ChecksumIEEE(header[:6]); computed != stored {
		return nil, frameError("header CRC mismatch: stored %#08x, computed %#08x (header %x)", stored, computed, header)
	}
	words := int(header[0] & 0x0F)
	if words < baseWords || words-baseWords > MaxOptions {
		return nil, frameError("header length of %d words: options must be 0..%d (header %x)", words, MaxOptions, header)
	}
	length := binary.LittleEndian.Uint32(header[2:])
	if length > MaxPayload {
		return nil, frameError("payload of %d bytes is over the limit of %d bytes (header %x)", length, MaxPayload, header)
	}
	rest := make([]byte, (words-baseWords)*4+int(length))
	if _, err := io.ReadFull(r, rest); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	frame := &Frame{Version: header[0] >> 4, Flags: header[1], Byte10: header[10], Byte11: header[11], Options: make([]uint32, words-baseWords)}
	for i := range frame.Options {
		frame.Options[i] = binary.LittleEndian.Uint32(rest[4*i:])
	}
	frame.Payload = rest[(words-baseWords)*4:]
	return frame, nil
}

// Decode decodes exactly one frame from data.
func Decode(data []byte) (*Frame, error) {
	r := &sliceReader{data: data}
	frame, err := Read(r)
	if err == io.EOF {
		return nil, frameError("no frame: empty input")
	}
	if err != nil {
		return nil, err
	}
	if len(r.data) != 0 {
		return nil, frameError("%d bytes after the frame", len(r.data))
	}
	return frame, nil
}

// SplitPayload returns the context and the body of a payload frame, checked as RoadRunner checks
// a worker's reply.
func SplitPayload(frame *Frame) (context, body []byte, err error) {
	if len(frame.Options) != 1 {
		return nil, nil, frameError("options length should be equal 1 (body offset), got %v", frame.Options)
	}
	n := frame.Options[0]
	if int64(n) > int64(len(frame.Payload)) {
		return nil, nil, frameError("bad payload: context length %d exceeds payload length %d", n, len(frame.Payload))
	}
	return frame.Payload[:n], frame.Payload[n:], nil
}

// SplitRequest returns the context, the body and the event id (0 for none) of a request frame: one
// option from RoadRunner, two from rr-tcp to a worker that echoes event ids.
func SplitRequest(frame *Frame) (context, body []byte, eventID uint32, err error) {
	if len(frame.Options) == EventIDOption+1 {
		eventID = frame.Options[EventIDOption]
		single := *frame
		single.Options = frame.Options[:1]
		context, body, err = SplitPayload(&single)
		return context, body, eventID, err
	}
	context, body, err = SplitPayload(frame)
	return context, body, 0, err
}

type sliceReader struct{ data []byte }

func (s *sliceReader) Read(p []byte) (int, error) {
	if len(s.data) == 0 {
		return 0, io.EOF
	}
	n := copy(p, s.data)
	s.data = s.data[n:]
	return n, nil
}
