package metrics

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/push"

	"github.com/cognito-export/cognito-export/batch"
	"github.com/cognito-export/cognito-export/ratelimit"
)

// Job is the job label of every push: with pool, account and region it is
// a pool's group on the Pushgateway, so that pools do not overwrite each
// other.
const Job = "cognito-export"

// pushTimeout bounds one push: a gateway that does not answer must not hold
// up the export, nor its end.
const pushTimeout = 5 * time.Second

// Pusher pushes each pool's metrics to a Pushgateway, as Prometheus advises
// for a batch job that a scrape may never catch. Every push is an Add (HTTP
// POST): it replaces the families it sends and keeps the others, so a failed
// run keeps the group's last success timestamp from the run that had one.
type Pusher struct {
	url        string
	user, pass string
	limits     map[batch.QuotaKey]*ratelimit.Set
	client     *http.Client
	log        *slog.Logger
}

// NewPusher checks the gateway's URL (http or https, a host; a user and
// password in it are sent as basic auth and never logged) and returns a
// pusher whose failures are warnings on log.
func NewPusher(gateway string, limits map[batch.QuotaKey]*ratelimit.Set, log *slog.Logger) (*Pusher, error) {
	u, err := parseGateway(gateway)
	if err != nil {
		return nil, err
	}
	p := &Pusher{limits: limits, client: &http.Client{Timeout: pushTimeout}, log: log}
	if u.User != nil {
		p.user = u.User.Username()
		p.pass, _ = u.User.Password()
		u.User = nil
	}
	p.url = u.String()
	return p, nil
}

// CheckGateway says whether gateway is a Pushgateway's URL, before the run
// starts.
func CheckGateway(gateway string) error {
	_, err := parseGateway(gateway)
	return err
}

func parseGateway(gateway string) (*url.URL, error) {
	u, err := url.Parse(gateway)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
		return nil, fmt.Errorf("not a Pushgateway URL: give http://host:9091")
	}
	return u, nil
}

// poolCollector is one pool's metrics without its labels, which the
// grouping key holds.
type poolCollector struct {
	pr  *batch.PoolRun
	set *ratelimit.Set
}

func (c poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range pushed.all() {
		ch <- d
	}
}

func (c poolCollector) Collect(ch chan<- prometheus.Metric) {
	collectPool(ch, pushed, c.pr, nil)
	if c.set != nil {
		collectRates(ch, pushed.rate, c.set)
	}
}

// Push sends the pool's metrics now.
func (p *Pusher) Push(ctx context.Context, pr *batch.PoolRun) error {
	reg := prometheus.NewRegistry()
	if err := reg.Register(poolCollector{pr: pr, set: p.limits[pr.Key]}); err != nil {
		return err
	}
	ps := push.New(p.url, Job).Gatherer(reg).Client(p.client).
		Grouping("pool", pr.Config.UserPoolID).Grouping("account", pr.Key.Account).Grouping("region", pr.Key.Region)
	if p.user != "" {
		ps = ps.BasicAuth(p.user, p.pass)
	}
	ctx, cancel := context.WithTimeout(ctx, pushTimeout)
	defer cancel()
	if err := ps.AddContext(ctx); err != nil {
		return fmt.Errorf("push to the Pushgateway: %w", err)
	}
	return nil
}

// Every pushes the pool's metrics every interval until ctx is done or stop
// is called; none when interval is 0. A failed push is a warning, once: the
// export goes on, and the final push tries again.
func (p *Pusher) Every(ctx context.Context, pr *batch.PoolRun, interval time.Duration) (stop func()) {
	if interval <= 0 {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(interval)
		defer t.Stop()
		warned := false
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if err := p.Push(ctx, pr); err != nil && !warned && ctx.Err() == nil {
					warned = true
					p.log.Warn("metrics not pushed; the export goes on", "pool", pr.Config.UserPoolID, "error", err.Error())
				}
			}
		}
	}()
	return func() {
		cancel()
		<-done
	}
}

// Final pushes the pool's metrics once its run is over, complete or
// failed, even after a stop signal (within a short timeout). A failure is
// a warning: an unreachable gateway never fails an export.
func (p *Pusher) Final(ctx context.Context, pr *batch.PoolRun) {
	if err := p.Push(context.WithoutCancel(ctx), pr); err != nil {
		p.log.Warn("metrics not pushed at the end of the pool's run", "pool", pr.Config.UserPoolID, "error", err.Error())
		return
	}
	p.log.Debug("metrics pushed", "pool", pr.Config.UserPoolID, "state", pr.State().String())
}
