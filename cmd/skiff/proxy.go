package main

import (
	"errors"

	"github.com/skiff-sh/skiff/internal/proxy"
	"github.com/spf13/cobra"
)

func init() { commands = append(commands, proxyCommand) }

func proxyCommand() *cobra.Command {
	var cleanup bool
	cmd := &cobra.Command{
		Use:   "proxy",
		Short: "Service proxy maintenance (the proxy itself runs inside `skiff server` and `skiff agent`)",
		RunE: func(cmd *cobra.Command, args []string) error {
			if !cleanup {
				return errors.New("nothing to do: the proxy runs inside `skiff server`/`skiff agent`; use --cleanup to remove its nftables table")
			}
			return proxy.Cleanup(cmd.Context())
		},
	}
	cmd.Flags().BoolVar(&cleanup, "cleanup", false, "delete skiff's nftables table (ip "+proxy.TableName+") and exit")
	return cmd
}
