package bench

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
)

// APIConfig sets up the api scenario.
type APIConfig struct {
	// Concurrency lists the numbers of clients in parallel to measure at; default 1, 16, 64.
	Concurrency []int
	// Duration is how long each verb runs at each concurrency; default 5s.
	Duration time.Duration
	// ObjectSize is the bytes of data in each ConfigMap; default 1024.
	ObjectSize int
	// MaxObjects caps the ConfigMaps created at one concurrency (create stops early);
	// default 5000.
	MaxObjects int
	// ListLimit is the page size of a list (one page per operation, as client-go's
	// pager and informers ask); default 500.
	ListLimit int64
	// Verbs limits the verbs measured, in this order: create, get, update, list, watch,
	// delete. Default all. get, update and delete use the objects create made.
	Verbs []string
}

// AllVerbs are the api scenario's verbs in the order they run.
var AllVerbs = []string{"create", "get", "update", "list", "watch", "delete"}

func (c *APIConfig) validate() error {
	if len(c.Concurrency) == 0 {
		c.Concurrency = []int{1, 16, 64}
	}
	for _, n := range c.Concurrency {
		if n < 1 {
			return fmt.Errorf("bench: concurrency %d: must be at least 1", n)
		}
	}
	if c.Duration <= 0 {
		c.Duration = 5 * time.Second
	}
	if c.ObjectSize <= 0 {
		c.ObjectSize = 1024
	}
	if c.MaxObjects <= 0 {
		c.MaxObjects = 5000
	}
	if c.ListLimit <= 0 {
		c.ListLimit = 500
	}
	if len(c.Verbs) == 0 {
		c.Verbs = AllVerbs
	}
	for _, v := range c.Verbs {
		if !contains(AllVerbs, v) {
			return fmt.Errorf("bench: verb %q: want one of %s", v, strings.Join(AllVerbs, ","))
		}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// RunAPI measures the API verbs on ConfigMaps in a fresh namespace, deleted afterwards.
// It returns an error only if it could not start (bad config, no namespace).
func RunAPI(ctx context.Context, env *Env, cfg APIConfig) (*Result, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	r, err := env.begin(ctx, "api")
	if err != nil {
		return nil, err
	}
	res := r.res
	res.Param("concurrency", joinInts(cfg.Concurrency))
	res.Param("duration", cfg.Duration)
	res.Param("object_size", cfg.ObjectSize)
	res.Param("max_objects", cfg.MaxObjects)
	res.Param("list_limit", cfg.ListLimit)
	res.Param("verbs", strings.Join(cfg.Verbs, ","))
	if env.REST != nil {
		res.Param("content_type", env.REST.ContentType)
	}
	ns, err := createNamespace(ctx, env, "skiff-bench-api-")
	if err != nil {
		return nil, err
	}
	defer deleteNamespace(env, ns)
	res.Param("namespace", ns)

	a := &apiRun{env: env, r: r, cfg: cfg, ns: ns, data: strings.Repeat("x", cfg.ObjectSize)}
	for _, c := range cfg.Concurrency {
		a.objects = make([][]*corev1.ConfigMap, c)
		for _, verb := range cfg.Verbs {
			if ctx.Err() != nil {
				break
			}
			env.Log.Info("bench api", "verb", verb, "concurrency", c)
			if err := a.phase(ctx, verb, c); err != nil {
				res.Fail(fmt.Errorf("%s@%d: %w", verb, c, err))
			}
		}
		// Whatever delete did not get to goes with the namespace.
	}
	if err := ctx.Err(); err != nil {
		res.Fail(err)
	}
	return r.finish(), nil
}

type apiRun struct {
	env  *Env
	r    *run
	cfg  APIConfig
	ns   string
	data string
	// objects[w] are the ConfigMaps worker w created and still owns, newest version.
	objects [][]*corev1.ConfigMap
}

// phase runs one verb at concurrency c for cfg.Duration.
func (a *apiRun) phase(ctx context.Context, verb string, c int) error {
	if verb == "watch" {
		return a.watchPhase(ctx, c)
	}
	clk := a.env.Clock
	over := a.stopAfter(ctx, a.cfg.Duration)
	cms := a.env.Client.CoreV1().ConfigMaps(a.ns)
	var created atomic.Int64
	var all []*corev1.ConfigMap
	for _, objs := range a.objects {
		all = append(all, objs...)
	}
	if verb != "create" && verb != "list" && len(all) == 0 {
		return errors.New("no objects to work on (create made none)")
	}
	start := clk.Now()
	var wg sync.WaitGroup
	for w := range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), uint64(c)))
			mine := a.objects[w]
			defer func() { a.objects[w] = mine }()
			for i := 0; !over.Load() && ctx.Err() == nil; i++ {
				var err error
				t0 := clk.Now()
				switch verb {
				case "create":
					if created.Add(1) > int64(a.cfg.MaxObjects) {
						return
					}
					name := fmt.Sprintf("cm-c%d-w%d-%d", c, w, i)
					var got *corev1.ConfigMap
					got, err = cms.Create(ctx, &corev1.ConfigMap{
						ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"skiff.dev/bench": "api"}},
						Data:       map[string]string{"data": a.data, "v": "0"},
					}, metav1.CreateOptions{})
					if err == nil {
						mine = append(mine, got)
					}
				case "get":
					_, err = cms.Get(ctx, all[rng.IntN(len(all))].Name, metav1.GetOptions{})
				case "update":
					if len(mine) == 0 {
						return
					}
					j := i % len(mine)
					obj := mine[j].DeepCopy()
					obj.Data["v"] = strconv.Itoa(i)
					var got *corev1.ConfigMap
					got, err = cms.Update(ctx, obj, metav1.UpdateOptions{})
					if err == nil {
						mine[j] = got
					}
				case "list":
					_, err = cms.List(ctx, metav1.ListOptions{Limit: a.cfg.ListLimit})
				case "delete":
					if len(mine) == 0 {
						return
					}
					err = cms.Delete(ctx, mine[len(mine)-1].Name, metav1.DeleteOptions{})
					if err == nil || apierrors.IsNotFound(err) {
						mine = mine[:len(mine)-1]
					}
				}
				if ctx.Err() != nil {
					return // interrupted: not an error of the server
				}
				a.r.rec.Add(verb, c, clk.Since(t0), err)
			}
		}()
	}
	wg.Wait()
	// The phase ran until its deadline, or until the workers ran out of work.
	a.r.rec.Span(verb, c, clk.Since(start))
	return nil
}

// watchPhase measures watch delivery: c watchers on one label selector, a few writers
// creating ConfigMaps as fast as they can for cfg.Duration. Latency is from the
// moment a create returns (write acknowledged) to the moment each watcher has the
// ADDED event; an event that arrives before its create returns counts as 0.
func (a *apiRun) watchPhase(ctx context.Context, c int) error {
	clk := a.env.Clock
	cms := a.env.Client.CoreV1().ConfigMaps(a.ns)
	phase := fmt.Sprintf("watch-c%d", c)
	sel := "skiff.dev/bench-phase=" + phase
	list, err := cms.List(ctx, metav1.ListOptions{LabelSelector: sel})
	if err != nil {
		return fmt.Errorf("list: %w", err)
	}
	wctx, cancelWatch := context.WithCancel(ctx)
	defer cancelWatch()
	type recv struct {
		name string
		at   time.Time
	}
	watchers := make([]watch.Interface, c)
	for i := range c {
		w, err := cms.Watch(wctx, metav1.ListOptions{LabelSelector: sel, ResourceVersion: list.ResourceVersion})
		if err != nil {
			for _, w := range watchers[:i] {
				w.Stop()
			}
			return fmt.Errorf("watch: %w", err)
		}
		watchers[i] = w
	}
	got := make([][]recv, c)
	var wgWatch sync.WaitGroup
	var received atomic.Int64
	for i, w := range watchers {
		wgWatch.Add(1)
		go func() {
			defer wgWatch.Done()
			defer w.Stop()
			for ev := range w.ResultChan() {
				if ev.Type != watch.Added {
					continue
				}
				if m, ok := ev.Object.(metav1.Object); ok {
					got[i] = append(got[i], recv{m.GetName(), clk.Now()})
					received.Add(1)
				}
			}
		}()
	}

	// Writers.
	writers := min(c, 4)
	acks := make([]map[string]time.Time, writers)
	sent := make([]map[string]time.Time, writers)
	over := a.stopAfter(ctx, a.cfg.Duration)
	start := clk.Now()
	var wgWrite sync.WaitGroup
	var writeErrs atomic.Int64
	for w := range writers {
		acks[w], sent[w] = map[string]time.Time{}, map[string]time.Time{}
		wgWrite.Add(1)
		go func() {
			defer wgWrite.Done()
			for i := 0; !over.Load() && ctx.Err() == nil; i++ {
				name := fmt.Sprintf("%s-w%d-%d", phase, w, i)
				sent[w][name] = clk.Now()
				_, err := cms.Create(ctx, &corev1.ConfigMap{
					ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"skiff.dev/bench-phase": phase}},
					Data:       map[string]string{"data": a.data},
				}, metav1.CreateOptions{})
				if err != nil {
					if ctx.Err() == nil {
						writeErrs.Add(1)
					}
					continue
				}
				acks[w][name] = clk.Now()
			}
		}()
	}
	wgWrite.Wait()
	writeSpan := clk.Since(start)
	written := 0
	for _, m := range acks {
		written += len(m)
	}
	// Give the watchers up to 10s to catch up with the last writes.
	catchUp := clk.After(10 * time.Second)
waitEvents:
	for received.Load() < int64(written*c) {
		select {
		case <-catchUp:
			break waitEvents
		case <-clk.After(10 * time.Millisecond):
		}
	}
	cancelWatch()
	wgWatch.Wait()

	ackAt, sentAt := map[string]time.Time{}, map[string]time.Time{}
	for w := range acks {
		for k, v := range acks[w] {
			ackAt[k] = v
		}
		for k, v := range sent[w] {
			sentAt[k] = v
		}
	}
	early := 0
	for i := range got {
		for _, ev := range got[i] {
			ack, ok := ackAt[ev.name]
			if !ok {
				continue // its create failed on the client side
			}
			lat := ev.at.Sub(ack)
			if lat < 0 {
				early++
				lat = 0
			}
			a.r.rec.AddAt("watch", c, ev.at.Sub(a.r.start), lat, nil)
			a.r.rec.AddAt("watch-from-send", c, ev.at.Sub(a.r.start), ev.at.Sub(sentAt[ev.name]), nil)
		}
	}
	missing := int64(written*c) - received.Load()
	for range max(missing, 0) {
		a.r.rec.Add("watch", c, 0, errors.New("event not delivered within 10s"))
	}
	a.r.rec.Span("watch", c, writeSpan)
	a.r.rec.Span("watch-from-send", c, writeSpan)
	a.r.res.Note("watch@%d: %d writers created %d objects (%d write errors); %d events to %d watchers, %d arrived before the create returned",
		c, writers, written, writeErrs.Load(), received.Load(), c, early)
	return nil
}

// stopAfter returns a flag that turns true after d (or when ctx ends). Phases stop
// issuing requests then but let the ones in flight finish, so that no request is cut
// off and miscounted.
func (a *apiRun) stopAfter(ctx context.Context, d time.Duration) *atomic.Bool {
	var over atomic.Bool
	timer := a.env.Clock.After(d)
	go func() {
		select {
		case <-timer:
		case <-ctx.Done():
		}
		over.Store(true)
	}()
	return &over
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ",")
}

// createNamespace makes a fresh namespace named prefix plus random characters.
func createNamespace(ctx context.Context, env *Env, prefix string) (string, error) {
	ns, err := env.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{GenerateName: prefix, Labels: map[string]string{"skiff.dev/bench": "true"}},
	}, metav1.CreateOptions{})
	if err != nil {
		return "", fmt.Errorf("namespace: %w", err)
	}
	return ns.Name, nil
}

// deleteNamespace deletes ns without waiting for it to go (best effort, bounded).
func deleteNamespace(env *Env, ns string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := env.Client.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		env.Log.Warn("bench: delete namespace", "namespace", ns, "err", err)
	}
}
