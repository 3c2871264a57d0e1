package syncer

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the engine's Prometheus metrics. A nil *Metrics records nothing.
type Metrics struct {
	syncs        *prometheus.CounterVec
	syncDuration *prometheus.HistogramVec
	retries      *prometheus.CounterVec
	circuitState *prometheus.GaugeVec
	callLatency  *prometheus.HistogramVec
	vendorUpG    *prometheus.GaugeVec
	schedLag     *prometheus.HistogramVec
}

// NewMetrics registers the engine's metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		syncs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sally_syncs_total", Help: "Finished syncs by vendor and outcome.",
		}, []string{"vendor", "status"}),
		syncDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "sally_sync_duration_seconds", Help: "Duration of finished syncs.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2, 14),
		}, []string{"vendor", "status"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sally_vendor_retries_total", Help: "Vendor calls retried.",
		}, []string{"vendor"}),
		circuitState: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "sally_circuit_state", Help: "Circuit breaker state per integration: 0 closed, 1 half-open, 2 open.",
		}, []string{"vendor", "integration"}),
		callLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "sally_vendor_call_duration_seconds", Help: "Vendor calls, retries included, by outcome.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 14),
		}, []string{"vendor", "outcome"}),
	}
	m.vendorUpG = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "sally_vendor_up", Help: "Vendor-wide health as the database says: 1 up, 0 down for everyone (its syncs fail at once).",
	}, []string{"vendor"})
	m.schedLag = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "sally_schedule_lag_seconds", Help: "Scheduled syncs: start minus due time.",
		Buckets: []float64{0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300},
	}, []string{"vendor"})
	reg.MustRegister(m.syncs, m.syncDuration, m.retries, m.circuitState, m.callLatency, m.vendorUpG, m.schedLag)
	return m
}

func (m *Metrics) sync(vendor, status string, d time.Duration) {
	if m == nil {
		return
	}
	m.syncs.WithLabelValues(vendor, status).Inc()
	m.syncDuration.WithLabelValues(vendor, status).Observe(d.Seconds())
}

func (m *Metrics) retry(vendor string) {
	if m != nil {
		m.retries.WithLabelValues(vendor).Inc()
	}
}

func (m *Metrics) circuit(vendor, integration, state string) {
	if m == nil {
		return
	}
	v := map[string]float64{"CLOSED": 0, "HALF_OPEN": 1, "OPEN": 2}[state]
	m.circuitState.WithLabelValues(vendor, integration).Set(v)
}

func (m *Metrics) call(vendor string, d time.Duration, err error) {
	if m == nil {
		return
	}
	outcome := "success"
	if err != nil {
		outcome = string(classOf(err))
	}
	m.callLatency.WithLabelValues(vendor, outcome).Observe(d.Seconds())
}

func (m *Metrics) vendorUp(vendor string, up bool) {
	if m == nil {
		return
	}
	v := 0.0
	if up {
		v = 1
	}
	m.vendorUpG.WithLabelValues(vendor).Set(v)
}

func (m *Metrics) lag(vendor string, d time.Duration) {
	if m != nil {
		m.schedLag.WithLabelValues(vendor).Observe(max(d, 0).Seconds())
	}
}
