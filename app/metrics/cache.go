package metrics

import (
	"database/sql"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/gatehouse-id/gatehouse/tenants/cache"
)

// cacheCollector reads a cache's Stats at each scrape: the cache counts
// with atomics of its own and knows nothing of Prometheus.
type cacheCollector struct {
	stats func() cache.Stats

	size, lookups, evictions, feedRead, feedLag, listening *prometheus.Desc
}

// WatchCache reports what the node's cache does: entries, lookups answered
// from memory or not, evictions, and the change feed's last read, lag and
// notification listener.
func (m *Metrics) WatchCache(stats func() cache.Stats) {
	m.reg.MustRegister(&cacheCollector{
		stats: stats,
		size: prometheus.NewDesc("gatehouse_cache_entries",
			"Tenants, clients and users' access in the node's cache.", []string{"kind"}, nil),
		lookups: prometheus.NewDesc("gatehouse_cache_lookups_total",
			"Cache lookups of tenants, clients and users' access, answered from memory (hit) or from the database (miss).", []string{"kind", "result"}, nil),
		evictions: prometheus.NewDesc("gatehouse_cache_evictions_total",
			"Cache entries dropped to stay within GATEHOUSE_CACHE_TENANTS, GATEHOUSE_CACHE_CLIENTS and GATEHOUSE_CACHE_ACCESS.", []string{"kind"}, nil),
		feedRead: prometheus.NewDesc("gatehouse_change_feed_last_read_timestamp_seconds",
			"When the node last read the tenant change feed without error (0: never).", nil, nil),
		feedLag: prometheus.NewDesc("gatehouse_change_feed_lag_seconds",
			"How long the newest change the node applied had been committed before it applied it.", nil, nil),
		listening: prometheus.NewDesc("gatehouse_change_feed_listening",
			"1 while the node receives PostgreSQL change notifications, else 0 (it polls).", nil, nil),
	})
}

// WatchDB reports the database connection pool (go_sql_* metrics).
func (m *Metrics) WatchDB(db *sql.DB) {
	m.reg.MustRegister(collectors.NewDBStatsCollector(db, "gatehouse"))
}

func (c *cacheCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.size, c.lookups, c.evictions, c.feedRead, c.feedLag, c.listening} {
		ch <- d
	}
}

func (c *cacheCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.stats()
	gauge, counter := prometheus.GaugeValue, prometheus.CounterValue
	ch <- prometheus.MustNewConstMetric(c.size, gauge, float64(st.Tenants), "tenant")
	ch <- prometheus.MustNewConstMetric(c.size, gauge, float64(st.Clients), "client")
	ch <- prometheus.MustNewConstMetric(c.size, gauge, float64(st.Access), "access")
	ch <- prometheus.MustNewConstMetric(c.lookups, counter, float64(st.TenantHits), "tenant", "hit")
	ch <- prometheus.MustNewConstMetric(c.lookups, counter, float64(st.TenantMisses), "tenant", "miss")
	ch <- prometheus.MustNewConstMetric(c.lookups, counter, float64(st.ClientHits), "client", "hit")
	ch <- prometheus.MustNewConstMetric(c.lookups, counter, float64(st.ClientMisses), "client", "miss")
	ch <- prometheus.MustNewConstMetric(c.lookups, counter, float64(st.AccessHits), "access", "hit")
	ch <- prometheus.MustNewConstMetric(c.lookups, counter, float64(st.AccessMisses), "access", "miss")
	ch <- prometheus.MustNewConstMetric(c.evictions, counter, float64(st.TenantEvictions), "tenant")
	ch <- prometheus.MustNewConstMetric(c.evictions, counter, float64(st.ClientEvictions), "client")
	ch <- prometheus.MustNewConstMetric(c.evictions, counter, float64(st.AccessEvictions), "access")
	read := 0.0
	if !st.FeedReadAt.IsZero() {
		read = float64(st.FeedReadAt.UnixNano()) / 1e9
	}
	ch <- prometheus.MustNewConstMetric(c.feedRead, gauge, read)
	ch <- prometheus.MustNewConstMetric(c.feedLag, gauge, st.FeedLag.Seconds())
	listening := 0.0
	if st.Listening {
		listening = 1
	}
	ch <- prometheus.MustNewConstMetric(c.listening, gauge, listening)
}
