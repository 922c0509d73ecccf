package goridge

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"hash/crc32"
	"io"
	"os"
	"testing"
	"testing/iotest"
)

// The frames captured between RoadRunner and its PHP worker, shared with the TypeScript tests.
func fixtureStream(t *testing.T) ([]byte, int) {
	raw, err := os.ReadFile("../../../test/fixtures/goridge-frames.json")
	if err != nil {
		t.Fatal(err)
	}
	var fixture struct {
		Frames []struct{ Hex string }
	}
	if err := json.Unmarshal(raw, &fixture); err != nil {
		t.Fatal(err)
	}
	var stream []byte
	for _, f := range fixture.Frames {
		b, err := hex.DecodeString(f.Hex)
		if err != nil {
			t.Fatal(err)
		}
		stream = append(stream, b...)
	}
	return stream, len(fixture.Frames)
}

func TestReadsTheSessionOneByteAtATime(t *testing.T) {
	stream, count := fixtureStream(t)
	r := iotest.OneByteReader(bytes.NewReader(stream))
	var reencoded []byte
	for i := 0; ; i++ {
		frame, err := Read(r)
		if err == io.EOF {
			if i != count {
				t.Fatalf("read %d frames, want %d", i, count)
			}
			break
		}
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		out, err := Encode(frame.Flags, frame.Options, frame.Payload, frame.Byte10)
		if err != nil {
			t.Fatal(err)
		}
		reencoded = append(reencoded, out...)
	}
	if !bytes.Equal(reencoded, stream) {
		t.Error("re-encoding the frames does not give the captured bytes")
	}
}

func TestTruncatedAndCorruptFrames(t *testing.T) {
	stream, _ := fixtureStream(t)
	if _, err := Read(bytes.NewReader(stream[:20])); err != io.ErrUnexpectedEOF {
		t.Errorf("truncated payload: %v, want io.ErrUnexpectedEOF", err)
	}
	corrupt := append([]byte(nil), stream[:25]...)
	corrupt[2] ^= 1
	if _, err := Read(bytes.NewReader(corrupt)); !errors.Is(err, ErrFrame) {
		t.Errorf("bad CRC: %v, want ErrFrame", err)
	}
	// A header announcing 4 GiB (its CRC right) fails at once, before any payload is read.
	huge := make([]byte, HeaderSize)
	huge[0] = 0x13
	binary.LittleEndian.PutUint32(huge[2:], 0xfffffff0)
	binary.LittleEndian.PutUint32(huge[6:], crc32.ChecksumIEEE(huge[:6]))
	if _, err := Read(bytes.NewReader(huge)); !errors.Is(err, ErrFrame) {
		t.Errorf("payload over MaxPayload: %v, want ErrFrame", err)
	}
}
