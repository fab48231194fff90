package instance

import (
	"testing"
	"time"
)

func TestPollWait(t *testing.T) {
	for _, tc := range []struct{ waited, want time.Duration }{
		{0, 5 * time.Millisecond},
		{30 * time.Millisecond, 5 * time.Millisecond},
		{120 * time.Millisecond, 12 * time.Millisecond},
		{250 * time.Millisecond, 25 * time.Millisecond},
		{time.Minute, 25 * time.Millisecond},
	} {
		if got := pollWait(tc.waited); got != tc.want {
			t.Errorf("pollWait(%v) = %v, want %v", tc.waited, got, tc.want)
		}
	}
}
