package quota

import (
	"context"
	"sync"
	"time"

	"hostdeck/core"
)

// rateLimiter is a token bucket per project: rps tokens a second, a burst of
// rps. Its zero value is ready to use.
type rateLimiter struct {
	mu      sync.Mutex
	buckets map[string]*tokenBucket
}

type tokenBucket struct {
	rps    int
	tokens float64
	last   time.Time
}

// allow takes a token from the project's bucket, or says how long until one
// is there.
func (l *rateLimiter) allow(projectID string, rps int, now time.Time) (time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.buckets == nil {
		l.buckets = map[string]*tokenBucket{}
	}
	b, ok := l.buckets[projectID]
	if !ok || b.rps != rps {
		b = &tokenBucket{rps: rps, tokens: float64(rps), last: now}
		l.buckets[projectID] = b
	}
	if el := now.Sub(b.last).Seconds(); el > 0 {
		b.tokens = min(float64(rps), b.tokens+el*float64(rps))
	}
	b.last = now
	if b.tokens < 1 {
		return time.Duration((1 - b.tokens) / float64(rps) * float64(time.Second)), false
	}
	b.tokens--
	return 0, true
}

// CheckRate applies the project's rate limit to one request made with a
// token scoped to it: past the limit is KindTooMany with reason rate_limited.
func (s *Service) CheckRate(ctx context.Context, projectID string) error {
	if projectID == "" {
		return nil
	}
	l, err := LimitsOf(ctx, s.store, projectID)
	if err != nil || l.Rate <= 0 {
		return err
	}
	if wait, ok := s.rates.allow(projectID, l.Rate, s.Now()); !ok {
		e := core.TooMany(wait, "rate limit of project exceeded: %d requests per second", l.Rate)
		e.Reason, e.Params["project_id"] = ReasonRateLimited, projectID
		return e
	}
	return nil
}
