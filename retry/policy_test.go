package retry

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestDefaultPolicy(t *testing.T) {
	want := Policy{MaxAttempts: 4, MinWait: 250 * time.Millisecond, MaxWait: 8 * time.Second, MaxServerDelay: 30 * time.Second}
	if diff := cmp.Diff(want, DefaultPolicy(), cmpopts.IgnoreUnexported(Budget{})); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// The zero Policy and negative fields take the defaults.
	ignoreFuncs := cmpopts.IgnoreFields(Policy{}, "CheckRetry", "Backoff")
	withDefaults := want
	withDefaults.FinalProblemCodes = []string{"agent_start_failed"}
	for _, p := range []Policy{{}, {MaxAttempts: -1, MinWait: -1, MaxWait: -1, MaxServerDelay: -1}} {
		if diff := cmp.Diff(withDefaults, p.withDefaults(), ignoreFuncs); diff != "" {
			t.Errorf("withDefaults(%+v) (-want +got):\n%s", p, diff)
		}
	}
	if got := (Policy{MinWait: time.Second, MaxWait: time.Millisecond}).withDefaults(); got.MaxWait != time.Second {
		t.Errorf("MaxWait below MinWait became %v, want MinWait", got.MaxWait)
	}
	if got := (Policy{FinalProblemCodes: []string{}}).withDefaults(); got.FinalProblemCodes == nil || len(got.FinalProblemCodes) != 0 {
		t.Errorf("an empty FinalProblemCodes became %v, want it kept empty", got.FinalProblemCodes)
	}
}

func TestPolicyValidate(t *testing.T) {
	tests := []struct {
		name    string
		p       Policy
		wantErr []string
	}{
		{"default", DefaultPolicy(), nil},
		{"zero", Policy{}, nil},
		{"no retries", Policy{MaxAttempts: 1}, nil},
		{"negative attempts", Policy{MaxAttempts: -2}, []string{"MaxAttempts -2 is negative"}},
		{"negative durations", Policy{MinWait: -1, MaxWait: -1, MaxServerDelay: -1}, []string{"MinWait", "MaxWait", "MaxServerDelay"}},
		{"min above max", Policy{MinWait: 2 * time.Second, MaxWait: time.Second}, []string{"MinWait 2s is above MaxWait 1s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.p.Validate()
			if (err != nil) != (tt.wantErr != nil) {
				t.Fatalf("Validate() = %v", err)
			}
			for _, s := range tt.wantErr {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q lacks %q", err, s)
				}
			}
		})
	}
}

// MaxAttempts 1 sends the request once, whatever happens.
func TestNoRetries(t *testing.T) {
	f := setup(t, Policy{MaxAttempts: 1}, status(503))
	resp, _, err := f.do(t, newRequest(t, context.Background(), http.MethodGet, testURL, nil))
	if err != nil || resp.StatusCode != 503 || f.mock.count() != 1 {
		t.Errorf("got %v %v after %d attempts, want the 503 after 1", resp, err, f.mock.count())
	}
}

func TestDefaultCheckRetry(t *testing.T) {
	get, _ := http.NewRequest(http.MethodGet, testURL, nil)
	post, _ := http.NewRequest(http.MethodPost, testURL, nil)
	done, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name    string
		ctx     context.Context
		req     *http.Request
		resp    *http.Response
		err     error
		want    bool
		wantErr error
	}{
		{"GET 503", context.Background(), get, &http.Response{StatusCode: 503}, nil, true, nil},
		{"GET 501", context.Background(), get, &http.Response{StatusCode: 501}, nil, false, nil},
		{"GET refused", context.Background(), get, nil, errors.New("connection refused"), true, nil},
		{"POST 503", context.Background(), post, &http.Response{StatusCode: 503}, nil, false, nil},
		{"nil request", context.Background(), nil, &http.Response{StatusCode: 503}, nil, false, nil},
		{"ctx done", done, get, &http.Response{StatusCode: 503}, nil, false, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DefaultCheckRetry(tt.ctx, tt.req, tt.resp, tt.err)
			if got != tt.want || !errors.Is(err, tt.wantErr) {
				t.Errorf("= %v, %v; want %v, %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}
