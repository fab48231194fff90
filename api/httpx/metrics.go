package httpx

import (
	"errors"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics counts requests and their durations per face, route pattern and method.
type Metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// NewMetrics registers hostdeck_http_requests_total and
// hostdeck_http_request_duration_seconds on reg. Every face may call it with the
// same registry: collectors already registered there are shared.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "hostdeck_http_requests_total",
		Help: "HTTP requests answered, by face, route pattern, method and status code.",
	}, []string{"face", "route", "method", "code"})
	duration := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "hostdeck_http_request_duration_seconds",
		Help:    "Time taken to answer HTTP requests, by face, route pattern and method.",
		Buckets: prometheus.DefBuckets,
	}, []string{"face", "route", "method"})
	var err error
	if requests, err = register(reg, requests); err != nil {
		return nil, err
	}
	if duration, err = register(reg, duration); err != nil {
		return nil, err
	}
	return &Metrics{requests: requests, duration: duration}, nil
}

func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing, nil
			}
		}
		return c, err
	}
	return c, nil
}

// knownMethods keeps the method label bounded: anything else is "other".
var knownMethods = map[string]bool{
	"GET": true, "HEAD": true, "POST": true, "PUT": true, "PATCH": true, "DELETE": true, "OPTIONS": true,
}

func (m *Metrics) observe(face, route, method string, code int, d time.Duration) {
	if !knownMethods[method] {
		method = "other"
	}
	m.requests.WithLabelValues(face, route, method, strconv.Itoa(code)).Inc()
	m.duration.WithLabelValues(face, route, method).Observe(d.Seconds())
}
