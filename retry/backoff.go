package retry

import (
	"errors"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Test seams: tests replace them to get exact waits and a fixed clock.
var (
	// timeNow is the clock used for Retry-After dates and attempt durations.
	timeNow = time.Now
	// jitter draws the full-jitter wait: uniform in [0, ceiling].
	jitter = func(ceiling time.Duration) time.Duration {
		if ceiling <= 0 {
			return 0
		}
		if ceiling == math.MaxInt64 {
			return rand.N(ceiling)
		}
		return rand.N(ceiling + 1)
	}
)

// Backoff returns how long to wait before the next attempt. attemptNum is 0
// after the first attempt failed, 1 after the second, and so on. resp is the
// failed attempt's response (nil after a transport error). The transport caps
// the result at MaxWait, or at MaxServerDelay when resp asked for a delay (see
// ServerDelay).
type Backoff func(min, max time.Duration, attemptNum int, resp *http.Response) time.Duration

// DefaultBackoff honours the delay the server asked for (see ServerDelay);
// otherwise it is exponential backoff with full jitter: a wait drawn uniformly
// from [0, min(max, min·2^attemptNum)].
func DefaultBackoff(min, max time.Duration, attemptNum int, resp *http.Response) time.Duration {
	if d, ok := ServerDelay(resp); ok {
		return d
	}
	return jitter(backoffCeiling(min, max, attemptNum))
}

// backoffCeiling is min·2^attemptNum capped at max, without overflow.
func backoffCeiling(min, max time.Duration, attemptNum int) time.Duration {
	if min <= 0 {
		return 0
	}
	if max < min {
		max = min
	}
	c := min
	for range attemptNum {
		if c > max/2 {
			return max
		}
		c *= 2
	}
	return c
}

// ServerDelay returns the delay a response asks the client to wait:
// Retry-After-Ms (milliseconds, as sent by some API gateways) when present and
// valid, else Retry-After as delay-seconds or as an HTTP date. A date is
// measured from the response's own Date header when it has one (so a skewed
// local clock does not matter), else from the local clock; a date in the past
// means no wait (0, true). A delay too long for a time.Duration (such as
// Retry-After: 99999999999999999999) is the longest one, never ignored. ok is
// false when neither header holds a valid value. The result is not capped
// otherwise: the transport caps it at Policy.MaxServerDelay.
func ServerDelay(resp *http.Response) (d time.Duration, ok bool) {
	if resp == nil {
		return 0, false
	}
	if v := strings.TrimSpace(resp.Header.Get("Retry-After-Ms")); v != "" {
		ms, err := strconv.ParseFloat(v, 64)
		if (err == nil || errors.Is(err, strconv.ErrRange)) && ms >= 0 && !math.IsNaN(ms) {
			if ms >= float64(math.MaxInt64/int64(time.Millisecond)) {
				return math.MaxInt64, true
			}
			return time.Duration(ms * float64(time.Millisecond)), true
		}
	}
	v := strings.TrimSpace(resp.Header.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if isDigits(v) {
		// delay-seconds (RFC 9110: 1*DIGIT); beyond int64 it overflows.
		secs, err := strconv.ParseInt(v, 10, 64)
		if err != nil || secs > math.MaxInt64/int64(time.Second) {
			return math.MaxInt64, true
		}
		return time.Duration(secs) * time.Second, true
	}
	at, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	ref := timeNow()
	if date, err := http.ParseTime(resp.Header.Get("Date")); err == nil {
		ref = date
	}
	if d := at.Sub(ref); d > 0 {
		return d, true
	}
	return 0, true
}

func isDigits(s string) bool {
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
