package acp_test

import (
	"context"
	"log/slog"
	"os/exec"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	acpsdk "github.com/coder/acp-go-sdk"

	"github.com/agentsession/agentsession/gen"
	"github.com/agentsession/agentsession/refserver/agent"
)

// BenchmarkBridgeOverhead measures what the bridge adds to a turn: each
// iteration runs the same prompt once through the bridge and once straight
// over stdio with acp-go-sdk (a client that only counts the updates),
// against two processes of the test agent, in alternating order. It
// reports the mean of each (direct-µs/turn, bridge-µs/turn), their
// difference (overhead-µs/turn) and the median of the paired differences
// (median-overhead-µs/turn); ns/op is the pair.
//
//	go test -run '^$' -bench BridgeOverhead -benchtime 2000x ./refserver/agent/acp/
func BenchmarkBridgeOverhead(b *testing.B) {
	prompts := map[string]string{
		"echo":      "hello world",
		"stream-20": strings.Repeat("/say a chunk of the answer\n", 20) + "/tool read_file {\"path\":\"main.go\"}",
	}
	for _, name := range []string{"echo", "stream-20"} {
		b.Run(name, func(b *testing.B) { benchOverhead(b, prompts[name]) })
	}
}

func benchOverhead(b *testing.B, prompt string) {
	direct := startDirect(b)
	br := newBridge(b, config(b))
	var events atomic.Int64
	emit := func(gen.ScriptEvent) error { events.Add(1); return nil }
	in := agent.Input{SessionID: "bench", TurnIndex: 1, Prompt: prompt}
	ctx := context.Background()
	viaBridge := func() time.Duration {
		start := time.Now()
		if _, err := br.Run(ctx, in, emit); err != nil {
			b.Fatal(err)
		}
		return time.Since(start)
	}
	viaSDK := func() time.Duration {
		start := time.Now()
		direct.turn(b, prompt)
		return time.Since(start)
	}
	viaBridge() // start the bridge's process outside the measurement
	viaSDK()
	var tBridge, tDirect time.Duration
	diffs := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var viaB, viaD time.Duration
		if i%2 == 0 {
			viaB = viaBridge()
			viaD = viaSDK()
		} else {
			viaD = viaSDK()
			viaB = viaBridge()
		}
		tBridge += viaB
		tDirect += viaD
		diffs = append(diffs, viaB-viaD)
	}
	b.StopTimer()
	n := float64(b.N)
	db, dd := float64(tBridge.Microseconds())/n, float64(tDirect.Microseconds())/n
	slices.Sort(diffs)
	b.ReportMetric(dd, "direct-µs/turn")
	b.ReportMetric(db, "bridge-µs/turn")
	b.ReportMetric(db-dd, "overhead-µs/turn")
	// The median of the paired differences resists a busy machine's
	// outliers better than the difference of the means.
	b.ReportMetric(float64(diffs[len(diffs)/2].Nanoseconds())/1e3, "median-overhead-µs/turn")
	if direct.updates.Load() == 0 || events.Load() == 0 {
		b.Fatal("no updates")
	}
}

// directClient drives the test agent with acp-go-sdk alone.
type directClient struct {
	conn    *acpsdk.ClientSideConnection
	session acpsdk.SessionId
	updates atomic.Int64
}

func startDirect(b *testing.B) *directClient {
	cmd := exec.Command(testAgent)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		stdin.Close()
		_ = cmd.Wait()
	})
	d := &directClient{}
	d.conn = acpsdk.NewClientSideConnection(d, stdin, stdout)
	d.conn.SetLogger(slog.New(slog.DiscardHandler))
	ctx := context.Background()
	if _, err := d.conn.Initialize(ctx, acpsdk.InitializeRequest{ProtocolVersion: acpsdk.ProtocolVersionNumber}); err != nil {
		b.Fatal(err)
	}
	s, err := d.conn.NewSession(ctx, acpsdk.NewSessionRequest{Cwd: b.TempDir(), McpServers: []acpsdk.McpServer{}})
	if err != nil {
		b.Fatal(err)
	}
	d.session = s.SessionId
	return d
}

func (d *directClient) turn(b *testing.B, prompt string) {
	resp, err := d.conn.Prompt(context.Background(), acpsdk.PromptRequest{SessionId: d.session, Prompt: []acpsdk.ContentBlock{acpsdk.TextBlock(prompt)}})
	if err != nil || resp.StopReason != acpsdk.StopReasonEndTurn {
		b.Fatalf("%+v %v", resp, err)
	}
}

func (d *directClient) SessionUpdate(context.Context, acpsdk.SessionNotification) error {
	d.updates.Add(1)
	return nil
}

func (d *directClient) RequestPermission(context.Context, acpsdk.RequestPermissionRequest) (acpsdk.RequestPermissionResponse, error) {
	return acpsdk.RequestPermissionResponse{Outcome: acpsdk.NewRequestPermissionOutcomeCancelled()}, nil
}

func (d *directClient) ReadTextFile(context.Context, acpsdk.ReadTextFileRequest) (acpsdk.ReadTextFileResponse, error) {
	return acpsdk.ReadTextFileResponse{}, acpsdk.NewMethodNotFound(acpsdk.ClientMethodFsReadTextFile)
}

func (d *directClient) WriteTextFile(context.Context, acpsdk.WriteTextFileRequest) (acpsdk.WriteTextFileResponse, error) {
	return acpsdk.WriteTextFileResponse{}, acpsdk.NewMethodNotFound(acpsdk.ClientMethodFsWriteTextFile)
}

func (d *directClient) CreateTerminal(context.Context, acpsdk.CreateTerminalRequest) (acpsdk.CreateTerminalResponse, error) {
	return acpsdk.CreateTerminalResponse{}, acpsdk.NewMethodNotFound(acpsdk.ClientMethodTerminalCreate)
}

func (d *directClient) KillTerminal(context.Context, acpsdk.KillTerminalRequest) (acpsdk.KillTerminalResponse, error) {
	return acpsdk.KillTerminalResponse{}, nil
}

func (d *directClient) TerminalOutput(context.Context, acpsdk.TerminalOutputRequest) (acpsdk.TerminalOutputResponse, error) {
	return acpsdk.TerminalOutputResponse{}, nil
}

func (d *directClient) ReleaseTerminal(context.Context, acpsdk.ReleaseTerminalRequest) (acpsdk.ReleaseTerminalResponse, error) {
	return acpsdk.ReleaseTerminalResponse{}, nil
}

func (d *directClient) WaitForTerminalExit(context.Context, acpsdk.WaitForTerminalExitRequest) (acpsdk.WaitForTerminalExitResponse, error) {
	return acpsdk.WaitForTerminalExitResponse{}, nil
}
