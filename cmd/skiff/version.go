package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func init() { commands = append(commands, versionCommand) }

// version is the Kubernetes API version skiff implements.
const version = "v1.32.4-skiff"

func versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Run:   func(cmd *cobra.Command, args []string) { fmt.Println("skiff", version) },
	}
}
