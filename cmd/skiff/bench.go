package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/skiff-sh/skiff/internal/bench"
	"github.com/spf13/cobra"
)

func init() { commands = append(commands, benchCommand) }

// benchFlags are the flags every scenario shares.
type benchFlags struct {
	kubeconfig, out, plot, contentType, logLevel string
	serverPID                                    int
	qps                                          float32
	compare                                      bool
}

func benchCommand() *cobra.Command {
	var bf benchFlags
	cmd := &cobra.Command{
		Use:   "bench SCENARIO",
		Short: "Measure a Kubernetes-compatible cluster through its API (api, schedule, startup, churn, coldstart)",
		Long: `bench runs one measurement scenario against the cluster of --kubeconfig and prints a table;
--out writes the result as JSON, --plot draws its time series as SVG.

  skiff bench api --kubeconfig F                    verbs' throughput and latency at concurrency 1,16,64
  skiff bench schedule --kubeconfig F --nodes 100 --pods 1000
  skiff bench startup --kubeconfig F --image skiff.local/testapp:dev
  skiff bench churn --kubeconfig F --rate 20 --duration 60s
  skiff bench coldstart --server-bin bin/skiff      starts skiff server itself: time to /readyz, idle RSS
  skiff bench compare a.json b.json                 (or: skiff bench --compare a.json b.json)
  skiff bench plot result.json out.svg

The exit status is 1 when the scenario could not measure what it is for (e.g. no pod was ever bound);
the result is still printed and written.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if bf.compare {
				return cobra.ExactArgs(2)(cmd, args)
			}
			return cobra.NoArgs(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if !bf.compare {
				return cmd.Help()
			}
			return compareResults(cmd, args[0], args[1])
		},
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&bf.kubeconfig, "kubeconfig", "", "kubeconfig of the cluster (default $KUBECONFIG, then ~/.kube/config)")
	pf.StringVar(&bf.out, "out", "", "write the result as JSON to this file")
	pf.StringVar(&bf.plot, "plot", "", "write an SVG of latency percentiles, throughput and server RSS over time to this file")
	pf.IntVar(&bf.serverPID, "server-pid", 0, "PID of the API server on this machine, for its RSS and CPU (default: found from the server's port)")
	pf.StringVar(&bf.contentType, "content-type", "protobuf", "wire format of the benchmark's requests: protobuf or json")
	pf.Float32Var(&bf.qps, "qps", 0, "client-side rate limit of the benchmark's client (0: none)")
	pf.StringVar(&bf.logLevel, "log-level", "info", "debug, info, warn or error")
	cmd.Flags().BoolVar(&bf.compare, "compare", false, "compare two result files given as arguments")

	cmd.AddCommand(benchAPICommand(&bf), benchScheduleCommand(&bf), benchStartupCommand(&bf),
		benchChurnCommand(&bf), benchColdStartCommand(&bf), benchCompareCommand(), benchPlotCommand())
	return cmd
}

// runScenario builds the environment, runs fn, then prints, writes and plots its result.
func runScenario(cmd *cobra.Command, bf *benchFlags, fn func(ctx context.Context, env *bench.Env) (*bench.Result, error)) error {
	log, err := perfLogger(bf.logLevel)
	if err != nil {
		return err
	}
	env := &bench.Env{ServerPID: bf.serverPID, Log: log}
	if fn != nil && cmd.Name() != "coldstart" {
		rc, err := perfKubeconfig(bf.kubeconfig)
		if err != nil {
			return err
		}
		if env.REST, err = bench.ClientConfig(rc, bf.contentType, bf.qps); err != nil {
			return err
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	res, err := fn(ctx, env)
	if err != nil {
		return err
	}
	return reportResult(cmd, bf, res)
}

func reportResult(cmd *cobra.Command, bf *benchFlags, res *bench.Result) error {
	if err := res.WriteTable(cmd.OutOrStdout()); err != nil {
		return err
	}
	if bf.out != "" {
		if err := res.WriteJSON(bf.out); err != nil {
			return fmt.Errorf("--out: %w", err)
		}
	}
	if bf.plot != "" {
		if err := bench.WriteSVGFile(res, bf.plot); err != nil {
			return fmt.Errorf("--plot: %w", err)
		}
	}
	if !res.OK {
		return fmt.Errorf("bench %s: %s", res.Scenario, res.Error)
	}
	return nil
}

func benchAPICommand(bf *benchFlags) *cobra.Command {
	var cfg bench.APIConfig
	cmd := &cobra.Command{
		Use:   "api",
		Short: "Throughput and p50/p90/p99 latency of create/get/update/list/watch/delete on ConfigMaps",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runScenario(cmd, bf, func(ctx context.Context, env *bench.Env) (*bench.Result, error) {
				return bench.RunAPI(ctx, env, cfg)
			})
		},
	}
	f := cmd.Flags()
	f.IntSliceVar(&cfg.Concurrency, "concurrency", []int{1, 16, 64}, "concurrencies to measure at")
	f.DurationVar(&cfg.Duration, "duration", 5*time.Second, "how long each verb runs at each concurrency")
	f.IntVar(&cfg.ObjectSize, "object-size", 1024, "bytes of data per ConfigMap")
	f.IntVar(&cfg.MaxObjects, "max-objects", 5000, "most ConfigMaps created at one concurrency")
	f.Int64Var(&cfg.ListLimit, "list-limit", 500, "page size of one list")
	f.StringSliceVar(&cfg.Verbs, "verbs", bench.AllVerbs, "verbs to measure")
	return cmd
}

func benchScheduleCommand(bf *benchFlags) *cobra.Command {
	var cfg bench.ScheduleConfig
	cmd := &cobra.Command{
		Use:   "schedule",
		Short: "Simulated nodes (in-process) and M pods: time until all are bound, create→bound latency",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runScenario(cmd, bf, func(ctx context.Context, env *bench.Env) (*bench.Result, error) {
				return bench.RunSchedule(ctx, env, cfg)
			})
		},
	}
	f := cmd.Flags()
	f.IntVar(&cfg.Nodes, "nodes", 100, "simulated nodes")
	f.IntVar(&cfg.Pods, "pods", 1000, "pods to schedule")
	f.StringVar(&cfg.Workload, "workload", "pods", "pods (bare pods) or deployment (one Deployment)")
	f.StringVar(&cfg.Constraints, "constraints", "", "placement rules on every pod: spread (hard topology spread over hostnames) or anti-affinity (required, per group of pods; bare pods only)")
	f.IntVar(&cfg.CreateConcurrency, "create-concurrency", 16, "bare-pod creates in flight")
	f.DurationVar(&cfg.BindTimeout, "bind-timeout", 30*time.Second, "fail when no pod is bound this long after the first create")
	f.DurationVar(&cfg.Timeout, "timeout", 5*time.Minute, "bound on waiting for all pods to be bound and Ready")
	f.StringVar(&cfg.NamePrefix, "name-prefix", "sim-bench-", "prefix of the simulated nodes' names")
	f.DurationVar(&cfg.PodStartDelay, "pod-start-delay", 0, "simulated Pending time")
	f.DurationVar(&cfg.PodReadyDelay, "pod-ready-delay", 0, "simulated Running-not-Ready time")
	f.Float32Var(&cfg.SimQPS, "sim-qps", 1000, "the simulator's client rate limit")
	f.BoolVar(&cfg.KeepNodes, "keep-nodes", false, "leave the simulated nodes registered afterwards")
	return cmd
}

func benchStartupCommand(bf *benchFlags) *cobra.Command {
	var cfg bench.StartupConfig
	cmd := &cobra.Command{
		Use:   "startup",
		Short: "Pod startup latency (create → Running, → Ready) on real, non-simulated nodes",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runScenario(cmd, bf, func(ctx context.Context, env *bench.Env) (*bench.Result, error) {
				return bench.RunStartup(ctx, env, cfg)
			})
		},
	}
	f := cmd.Flags()
	f.IntVar(&cfg.Pods, "pods", 10, "pods to start")
	f.IntVar(&cfg.Concurrency, "concurrency", 1, "pods starting at once")
	f.StringVar(&cfg.Image, "image", "skiff.local/testapp:dev", "the pods' image")
	f.DurationVar(&cfg.Timeout, "timeout", 2*time.Minute, "how long one pod may take to become Ready")
	return cmd
}

func benchChurnCommand(bf *benchFlags) *cobra.Command {
	var cfg bench.ChurnConfig
	cmd := &cobra.Command{
		Use:   "churn",
		Short: "Sustained create/delete at a fixed rate: API latency and server RSS over time",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runScenario(cmd, bf, func(ctx context.Context, env *bench.Env) (*bench.Result, error) {
				return bench.RunChurn(ctx, env, cfg)
			})
		},
	}
	f := cmd.Flags()
	f.Float64Var(&cfg.Rate, "rate", 20, "creates per second (each matched by a delete once --live objects exist)")
	f.DurationVar(&cfg.Duration, "duration", time.Minute, "how long to churn")
	f.IntVar(&cfg.Live, "live", 100, "objects alive at steady state")
	f.StringVar(&cfg.Kind, "kind", "configmap", "configmap or pod")
	f.IntVar(&cfg.Concurrency, "concurrency", 32, "requests in flight at most")
	f.IntVar(&cfg.ObjectSize, "object-size", 1024, "bytes of data per ConfigMap")
	f.StringVar(&cfg.Image, "image", "registry.k8s.io/pause:3.10", "the pods' image (--kind pod)")
	f.DurationVar(&cfg.ListInterval, "list-interval", 0, "list a whole namespace this often, the namespaces in turn (0: never)")
	f.IntVar(&cfg.Namespaces, "namespaces", 1, "spread the objects round-robin over this many namespaces")
	return cmd
}

func benchColdStartCommand(bf *benchFlags) *cobra.Command {
	var cfg bench.ColdStartConfig
	cmd := &cobra.Command{
		Use:   "coldstart",
		Short: "Start skiff server repeatedly: process start → first 200 on /readyz, and idle RSS",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if cfg.Binary == "" {
				exe, err := os.Executable()
				if err != nil {
					return err
				}
				cfg.Binary = exe
			}
			return runScenario(cmd, bf, func(ctx context.Context, env *bench.Env) (*bench.Result, error) {
				return bench.RunColdStart(ctx, cfg)
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Binary, "server-bin", "", "skiff binary to start (default this one)")
	f.IntVar(&cfg.Runs, "runs", 10, "starts on a fresh data directory")
	f.IntVar(&cfg.RestartRuns, "restart-runs", 10, "restarts on an existing data directory (negative: none)")
	f.DurationVar(&cfg.Idle, "idle", 30*time.Second, "how long the server idles before its RSS is read (negative: skip)")
	f.StringSliceVar(&cfg.ExtraArgs, "server-arg", nil, "extra argument for skiff server (repeatable), e.g. --server-arg=--disable-agent")
	f.IntVar(&cfg.FirstPodRuns, "first-pod-runs", 0, "starts (the first on a fresh data directory, then restarts) timed from process start to a first pod Running on the server's own node (needs the agent, root, and --images-dir)")
	f.StringVar(&cfg.ImagesDir, "images-dir", "", "the node's image tarballs (make images puts them in DATA/images), for --first-pod-runs")
	f.StringVar(&cfg.Image, "image", "skiff.local/testapp:dev", "the first pod's image (--first-pod-runs)")
	return cmd
}

func benchCompareCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "compare A.json B.json",
		Short: "Print B's figures against A's, with ratios",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return compareResults(cmd, args[0], args[1])
		},
	}
}

func compareResults(cmd *cobra.Command, pathA, pathB string) error {
	a, err := bench.ReadResult(pathA)
	if err != nil {
		return err
	}
	b, err := bench.ReadResult(pathB)
	if err != nil {
		return err
	}
	return bench.WriteComparison(cmd.OutOrStdout(), a, b, pathA, pathB)
}

func benchPlotCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "plot RESULT.json OUT.svg",
		Short: "Draw a result's time series as SVG",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := bench.ReadResult(args[0])
			if err != nil {
				return err
			}
			if len(r.Series) == 0 {
				return errors.New("the result has no time series")
			}
			return bench.WriteSVGFile(r, args[1])
		},
	}
}
