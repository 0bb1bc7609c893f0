// Command skiff is a container orchestrator that speaks the Kubernetes API, in one binary.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

func main() {
	root := &cobra.Command{
		Use:           "skiff",
		Short:         "skiff runs containers the Kubernetes way, in one binary",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	for _, add := range commands {
		root.AddCommand(add())
	}
	if err := root.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "skiff:", err)
		os.Exit(1)
	}
}

// commands holds the constructors of the subcommands; each file adds its own in init.
var commands []func() *cobra.Command
