package retry

import (
	"context"
	"math"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// Retry-After (seconds, HTTP date) and Retry-After-Ms are honoured and capped
// at MaxServerDelay, end to end through the client.
func TestServerRequestedDelay(t *testing.T) {
	exactJitter(t)
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	fakeClock(t, now, 0)
	date := func(d time.Duration) string { return now.Add(d).Format(http.TimeFormat) }

	tests := []struct {
		name   string
		header http.Header
		want   time.Duration
	}{
		{"seconds", http.Header{"Retry-After": {"3"}}, 3 * time.Second},
		{"zero seconds", http.Header{"Retry-After": {"0"}}, 0},
		{"seconds capped", http.Header{"Retry-After": {"120"}}, 10 * time.Second},
		{"huge seconds capped", http.Header{"Retry-After": {"99999999999999999"}}, 10 * time.Second},
		{"seconds beyond int64 capped", http.Header{"Retry-After": {"99999999999999999999"}}, 10 * time.Second},
		{"milliseconds beyond int64 capped", http.Header{"Retry-After-Ms": {"1e30"}}, 10 * time.Second},
		{"HTTP date", http.Header{"Retry-After": {date(7 * time.Second)}}, 7 * time.Second},
		{"HTTP date capped", http.Header{"Retry-After": {date(time.Hour)}}, 10 * time.Second},
		{"HTTP date in the past", http.Header{"Retry-After": {date(-time.Minute)}}, 0},
		{"HTTP date against the server's Date", http.Header{
			"Retry-After": {date(time.Hour + 4*time.Second)},
			"Date":        {date(time.Hour)},
		}, 4 * time.Second},
		{"RFC 850 date", http.Header{"Retry-After": {now.Add(5 * time.Second).Format("Monday, 02-Jan-06 15:04:05 GMT")}}, 5 * time.Second},
		{"milliseconds", http.Header{"Retry-After-Ms": {"1500"}}, 1500 * time.Millisecond},
		{"milliseconds win over seconds", http.Header{"Retry-After-Ms": {"250"}, "Retry-After": {"9"}}, 250 * time.Millisecond},
		{"milliseconds capped", http.Header{"Retry-After-Ms": {"86400000"}}, 10 * time.Second},
		{"bad milliseconds fall back to seconds", http.Header{"Retry-After-Ms": {"soon"}, "Retry-After": {"2"}}, 2 * time.Second},
		{"invalid value: own backoff", http.Header{"Retry-After": {"soon"}}, 100 * time.Millisecond},
		{"negative value: own backoff", http.Header{"Retry-After": {"-5"}}, 100 * time.Millisecond},
		{"no header: own backoff", nil, 100 * time.Millisecond},
	}
	for _, tt := range tests {
		for _, code := range []int{429, 503} {
			t.Run(tt.name+"/"+http.StatusText(code), func(t *testing.T) {
				p := fastPolicy(2)
				p.MaxServerDelay = 10 * time.Second
				f := setup(t, p, step{status: code, header: tt.header}, status(200))
				attempts, _, _, err := f.observe(t, newRequest(t, context.Background(), http.MethodGet, testURL, nil))
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff([]time.Duration{tt.want}, f.slept()); diff != "" {
					t.Errorf("waits (-want +got):\n%s", diff)
				}
				if len(attempts) != 2 || attempts[0].Wait != tt.want {
					t.Errorf("attempts %+v, want the first with Wait %v", attempts, tt.want)
				}
			})
		}
	}
}

func TestServerDelay(t *testing.T) {
	fakeClock(t, time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC), 0)
	tests := []struct {
		name   string
		resp   *http.Response
		want   time.Duration
		wantOK bool
	}{
		{"nil response", nil, 0, false},
		{"no header", &http.Response{Header: http.Header{}}, 0, false},
		{"seconds with spaces", &http.Response{Header: http.Header{"Retry-After": {" 4 "}}}, 4 * time.Second, true},
		{"fractional milliseconds", &http.Response{Header: http.Header{"Retry-After-Ms": {"1.5"}}}, 1500 * time.Microsecond, true},
		{"NaN milliseconds", &http.Response{Header: http.Header{"Retry-After-Ms": {"NaN"}}}, 0, false},
		{"overflowing seconds", &http.Response{Header: http.Header{"Retry-After": {"99999999999999999"}}}, math.MaxInt64, true},
		{"seconds beyond int64", &http.Response{Header: http.Header{"Retry-After": {"99999999999999999999"}}}, math.MaxInt64, true},
		{"milliseconds beyond float64", &http.Response{Header: http.Header{"Retry-After-Ms": {"1e400"}}}, math.MaxInt64, true},
		{"negative milliseconds", &http.Response{Header: http.Header{"Retry-After-Ms": {"-1"}}}, 0, false},
		{"signed seconds", &http.Response{Header: http.Header{"Retry-After": {"+5"}}}, 0, false},
		{"garbage", &http.Response{Header: http.Header{"Retry-After": {"tomorrow"}}}, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, ok := ServerDelay(tt.resp)
			if d != tt.want || ok != tt.wantOK {
				t.Errorf("ServerDelay = %v, %v; want %v, %v", d, ok, tt.want, tt.wantOK)
			}
		})
	}
}

// Exponential growth of the ceiling, capped at max (waits exact with the
// jitter seam returning the ceiling).
func TestBackoffExponential(t *testing.T) {
	exactJitter(t)
	var got []time.Duration
	for n := range 7 {
		got = append(got, DefaultBackoff(100*time.Millisecond, time.Second, n, nil))
	}
	want := []time.Duration{100, 200, 400, 800, 1000, 1000, 1000}
	for i := range want {
		want[i] *= time.Millisecond
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if c := backoffCeiling(time.Second, math.MaxInt64, 1000); c <= 0 || c > math.MaxInt64 {
		t.Errorf("ceiling overflowed: %v", c)
	}
	if c := backoffCeiling(time.Second, time.Millisecond, 3); c != time.Second {
		t.Errorf("ceiling with max < min = %v, want min", c)
	}
}

// Full jitter: every wait lies in [0, ceiling], and they spread over it.
func TestBackoffFullJitter(t *testing.T) {
	const ceiling = 400 * time.Millisecond
	var lo, hi int
	for range 2000 {
		d := DefaultBackoff(100*time.Millisecond, time.Second, 2, nil)
		if d < 0 || d > ceiling {
			t.Fatalf("wait %v outside [0, %v]", d, ceiling)
		}
		if d < ceiling/4 {
			lo++
		}
		if d > ceiling*3/4 {
			hi++
		}
	}
	// Each quarter holds ~500 of 2000 draws; 300 is far outside chance.
	if lo < 300 || hi < 300 {
		t.Errorf("waits not spread over [0, %v]: %d in the lowest quarter, %d in the highest", ceiling, lo, hi)
	}
}
