package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"

	"github.com/seatsync/seatsync/config"
	"github.com/seatsync/seatsync/pkg/applier"
	"github.com/seatsync/seatsync/pkg/auth"
	"github.com/seatsync/seatsync/pkg/events"
	"github.com/seatsync/seatsync/pkg/membership"
	"github.com/seatsync/seatsync/pkg/metrics"
	"github.com/seatsync/seatsync/pkg/reconcile"
	"github.com/seatsync/seatsync/pkg/server"
	"github.com/seatsync/seatsync/pkg/workosapi"
	"github.com/seatsync/seatsync/store"
	"github.com/seatsync/seatsync/webhooks"
)

func serveCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "serve",
		Short: "Receive WorkOS webhooks, apply them, serve the admin API",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			cfg, err := e.loadConfig()
			if err != nil {
				return err
			}
			// The server's live heap is small and its garbage is mostly
			// request bodies and batch buffers: collecting half as often cut
			// its CPU per event by about a tenth in `make bench`, for ~30 MiB
			// more peak RSS (docs/OPERATIONS.md). A GOGC in the environment
			// still decides.
			if !slices.ContainsFunc(e.environ, func(kv string) bool { return strings.HasPrefix(kv, "GOGC=") }) {
				debug.SetGCPercent(200)
			}
			return serve(c.Context(), cfg, newLogger(cfg, e.stderr), nil)
		},
	}
}

// instance is one seatsync service: the store, the applier and the HTTP handler.
type instance struct {
	store   *store.Store
	applier *applier.Applier
	echo    *echo.Echo
	workos  *workosapi.Client  // nil without workos.api_key
	inbox   *store.InboxWriter // group commit for webhook deliveries; run it with runInbox
	poller  *events.Poller     // Events API transport; nil without workos.api_key
	// reconciler lists directories from WorkOS (SPEC §5); nil without workos.api_key.
	reconciler *reconcile.Reconciler
}

// runInbox commits webhook deliveries until ctx ends; cancel ctx only after
// the HTTP server has stopped, since in-flight deliveries wait on it.
func (i *instance) runInbox(ctx context.Context) { i.inbox.Run(ctx) }

// newService wires the components from cfg; ctx bounds background helpers (JWKS refresh).
func newService(ctx context.Context, cfg *config.Config, log *slog.Logger) (*instance, error) {
	// Every line logged with a request's context carries its request_id,
	// whichever component writes it.
	log = slog.New(server.LogHandler(log.Handler()))
	st, err := openStore(ctx, cfg, log, cfg.Database.AutoMigrate)
	if err != nil {
		return nil, err
	}
	// A registry of our own, never the global default (STYLE 3.10).
	reg := prometheus.NewRegistry()
	m := metrics.New(reg)
	if err := m.WatchStore(st); err != nil {
		_ = st.Close()
		return nil, err
	}
	// Up to 256 deliveries share a commit; a lone one waits at most 0.5 ms for
	// company. WorkOS waits for each answer, so a longer window only adds
	// latency. Two writers: while one commits, the other gathers the next
	// batch; more writers make smaller batches, and every commit costs CPU.
	// See BenchmarkInboxWriter in docs/PERFORMANCE.md.
	inbox := st.NewInboxWriter(256, 500*time.Microsecond, 2)
	app := applier.New(st, applier.Options{Rules: rules(cfg), Workers: cfg.Applier.Workers, BatchSize: cfg.Applier.BatchSize, MaxAttempts: cfg.Applier.MaxAttempts,
		UnmatchedAfter: cfg.Applier.UnmatchedAfter, Log: log, Observer: m, Guard: membership.Guard{Share: cfg.Seats.GuardShare,
			Min: cfg.Seats.GuardMin, Window: cfg.Seats.GuardWindow, Downgrade: cfg.Seats.GuardDowngrade}})
	var wh *webhooks.Handler
	if len(cfg.Webhooks.Secrets) > 0 {
		v, err := webhooks.NewVerifier(cfg.Webhooks.Secrets, cfg.Webhooks.Tolerance, time.Now)
		if err != nil {
			_ = st.Close()
			return nil, fmt.Errorf("webhooks.secrets: %w", err)
		}
		wh = webhooks.NewHandler(v, kickingInbox{inbox, app}, cfg.Webhooks.MaxBody, log)
		wh.SetObserver(m)
	} else {
		log.Warn("webhooks.secrets is empty: POST /webhooks/workos answers 503 until a secret is configured")
	}
	var av *auth.Verifier
	if cfg.Auth.JWTSecret != "" || cfg.Auth.JWKSURL != "" {
		av, err = auth.NewVerifier(ctx, auth.Options{HS256Secret: cfg.Auth.JWTSecret, JWKSURL: cfg.Auth.JWKSURL,
			Issuer: cfg.Auth.Issuer, Audience: cfg.Auth.Audience, Logger: log})
		if err != nil {
			_ = st.Close()
			return nil, fmt.Errorf("auth: %w", err)
		}
	} else {
		log.Warn("neither auth.jwt_secret nor auth.jwks_url is set: the admin API answers 503")
	}
	var wos *workosapi.Client
	if cfg.WorkOS.APIKey != "" {
		if wos, err = workosapi.New(workosapi.Options{APIKey: cfg.WorkOS.APIKey, Endpoint: cfg.WorkOS.Endpoint, Log: log, Observer: m}); err != nil {
			_ = st.Close()
			return nil, fmt.Errorf("workos: %w", err)
		}
	}
	var rec *reconcile.Reconciler
	if wos != nil {
		rec = reconcile.New(st, app, wos, reconcile.Options{Lease: cfg.Applier.Lease, Log: log,
			Progress: func(p reconcile.Progress) { m.ReconcileProgress(p.PlanID, p.DirectoryID, p.Phase, p.Listed, p.Gone) }})
		// Where WorkOS can be asked, a cutover downgrade reconciles first (SPEC §3).
		app.SetBeforeDowngrade(rec.BeforeDowngrade)
	}
	e := server.New(server.Deps{Store: st, Applier: app, Webhooks: wh, Auth: av, Rules: rules(cfg), WorkOS: wos,
		RequestTimeout: cfg.HTTP.RequestTimeout, Log: log,
		SAMLLoginURL: cfg.SAML.LoginURL, MaxFormBody: cfg.Webhooks.MaxBody,
		PortalReturnURL: cfg.WorkOS.PortalReturnURL, PortalSuccessURL: cfg.WorkOS.PortalSuccessURL,
		SessionSecret: cfg.Auth.JWTSecret, InsecureCookies: cfg.Env == config.EnvDev, Reconciler: rec,
		APIRate: cfg.HTTP.APIRate, APIBurst: cfg.HTTP.APIBurst, WebhookMaxInFlight: cfg.Webhooks.MaxInFlight,
		HSTS: cfg.Env == config.EnvProduction, Metrics: m, Gatherer: reg})
	var poller *events.Poller
	if wos != nil {
		// The default holder (hostname plus a random suffix) tells replicas apart.
		poller = events.New(st, wos, events.Options{Lease: cfg.Applier.Lease, Log: log, Kick: app.Kick, Observer: m})
	}
	return &instance{store: st, applier: app, echo: e, workos: wos, inbox: inbox, poller: poller, reconciler: rec}, nil
}

// kickingInbox wakes the local applier after each stored event, so events are
// applied within milliseconds instead of at the next poll.
type kickingInbox struct {
	inbox webhooks.Inbox
	app   *applier.Applier
}

func (k kickingInbox) PutInbox(ctx context.Context, ev membership.InboxEvent) (bool, error) {
	dup, err := k.inbox.PutInbox(ctx, ev)
	if err == nil && !dup {
		k.app.Kick()
	}
	return dup, err
}

// serve runs until ctx ends, then drains: in-flight requests finish, the
// appliers finish their transactions, all within http.shutdown_timeout.
// ready, when not nil, receives the listening address.
func serve(ctx context.Context, cfg *config.Config, log *slog.Logger, ready chan<- string) error {
	svc, err := newService(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer svc.store.Close()
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", cfg.Listen, err)
	}
	srv := &http.Server{Handler: svc.echo, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: cfg.HTTP.RequestTimeout + 5*time.Second, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10}
	appCtx, stopApp := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Go(func() { svc.applier.Run(appCtx) })
	wg.Go(func() { svc.runInbox(appCtx) })
	if every := cfg.WorkOS.EventsPollInterval; every > 0 && svc.poller != nil {
		wg.Go(func() { svc.poller.Run(appCtx, every) })
	} else if every > 0 {
		log.Warn("workos.events_poll_interval is set but workos.api_key is empty: the Events API poller is off")
	}
	if every := cfg.WorkOS.ReconcileInterval; every > 0 && svc.reconciler != nil {
		wg.Go(func() { svc.reconciler.Every(appCtx, every) })
	} else if every > 0 {
		log.Warn("workos.reconcile_interval is set but workos.api_key is empty: scheduled reconciliation is off")
	}
	if cfg.HTTP.DebugListen != "" {
		wg.Go(func() { serveDebug(appCtx, cfg.HTTP.DebugListen, log) })
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("seatsync serving", "addr", ln.Addr().String(), "database", cfg.Database.Driver, "version", version)
	if ready != nil {
		ready <- ln.Addr().String()
	}
	select {
	case err = <-errc:
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), cfg.HTTP.ShutdownTimeout)
	defer cancel()
	if serr := srv.Shutdown(sctx); serr != nil {
		log.Warn("shutdown", "err", serr)
	}
	stopApp()
	// The appliers finish the batch they hold, but not past the deadline: a
	// batch still waiting then (on row locks, on a slow database) is left to
	// roll back when the process exits, and its events stay pending for the
	// next replica or the next start.
	stopped := make(chan struct{})
	go func() { wg.Wait(); close(stopped) }()
	select {
	case <-stopped:
	case <-sctx.Done():
		log.Warn("shutdown: background work still running at http.shutdown_timeout; its transactions roll back")
	}
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}
