package main

import (
	"fmt"
	"path/filepath"

	"github.com/skiff-sh/skiff/internal/images"
	"github.com/skiff-sh/skiff/internal/kubelet/runtime"
	"github.com/spf13/cobra"
)

func init() { commands = append(commands, imagesCommand) }

func imagesCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "images", Short: "Build and import the node's container images (no registry needed)"}
	var b images.BuildConfig
	build := &cobra.Command{
		Use:   "build",
		Short: "Write the pause and test images as tarballs (make images does this into DATA/images)",
		RunE: func(cmd *cobra.Command, args []string) error {
			out, err := images.Build(cmd.Context(), b)
			for _, f := range out {
				fmt.Println(f)
			}
			return err
		},
	}
	build.Flags().StringVar(&b.PauseBin, "pause-bin", "bin/skiff-pause", "static pause binary (CGO_ENABLED=0 go build ./cmd/skiff-pause)")
	build.Flags().StringVar(&b.TestAppBin, "testapp-bin", "bin/skiff-testapp", "static test app binary (CGO_ENABLED=0 go build ./cmd/skiff-testapp)")
	build.Flags().StringVar(&b.Busybox, "busybox", "/bin/busybox", "static busybox (Debian busybox-static)")
	build.Flags().StringVar(&b.OutDir, "out", "/var/lib/skiff/images", "output directory (the air-gap dir the kubelet imports at start)")

	var dataDir, socket string
	imp := &cobra.Command{
		Use:   "import FILE...",
		Short: "Import image tarballs into the node's containerd (k8s.io namespace)",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if socket == "" {
				socket = runtime.SocketPath(filepath.Join(dataDir, "containerd"))
			}
			for _, f := range args {
				if err := images.Import(cmd.Context(), socket, f); err != nil {
					return err
				}
				fmt.Println("imported", f)
			}
			return nil
		},
	}
	imp.Flags().StringVar(&dataDir, "data-dir", "/var/lib/skiff", "skiff's data directory (its containerd socket is DATA/containerd/containerd.sock)")
	imp.Flags().StringVar(&socket, "address", "", "containerd socket (overrides --data-dir)")
	cmd.AddCommand(build, imp)
	return cmd
}
