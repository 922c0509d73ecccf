package tcpworker

import (
	"strings"
	"testing"

	tcpv1 "github.com/rr-tcp/rr-tcp/gen/go/rr/tcp/v1"
)

// The wire strings are written as Go constants for readable handlers; the schema is where they
// come from, so they must stay its enum value names without the prefix.
func TestNamesAreTheSchemas(t *testing.T) {
	for number, name := range tcpv1.TcpEvent_name {
		if number == 0 {
			continue
		}
		if got := EventFromProto(tcpv1.TcpEvent(number)); string(got) != strings.TrimPrefix(name, "TCP_EVENT_") {
			t.Errorf("event %s: tcpworker says %q", name, got)
		}
	}
	if len(Events) != len(tcpv1.TcpEvent_name)-1 {
		t.Errorf("tcpworker knows %d events, the schema %d", len(Events), len(tcpv1.TcpEvent_name)-1)
	}
	verbs := map[Verb]bool{}
	for _, v := range Verbs {
		verbs[v] = true
	}
	for number, name := range tcpv1.TcpResponse_name {
		if number != 0 && !verbs[Verb(strings.TrimPrefix(name, "TCP_RESPONSE_"))] {
			t.Errorf("verb %s is missing from tcpworker.Verbs", name)
		}
	}
	if len(Verbs) != len(tcpv1.TcpResponse_name)-1 {
		t.Errorf("tcpworker knows %d verbs, the schema %d", len(Verbs), len(tcpv1.TcpResponse_name)-1)
	}
	if EventFromProto(0) != EventUnknown || EventFromProto(99) != EventUnknown {
		t.Error("UNSPECIFIED and unknown numbers must be UNKNOWN")
	}
}
