package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/gosde/gosde/host"
	"github.com/spf13/cobra"
)

func newDevicesCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "devices",
		Short: "List the NVIDIA GPUs of this machine",
		Long: `devices asks the NVIDIA driver (through NVML) which GPUs this machine has: name,
memory in use, utilisation and compute capability of each. A machine without a driver
has none; that is reported, not treated as an error.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return writeDevices(cmd.OutOrStdout(), asJSON, host.Discover)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, `print one JSON document {driver_version, cuda_version, devices[, error]}`)
	return cmd
}

// writeDevices takes discover as an argument so that tests can show it inventories
// this machine does not have.
func writeDevices(w io.Writer, asJSON bool, discover func() (host.Inventory, error)) error {
	inv, err := discover()
	noDriver := errors.Is(err, host.ErrNoDriver)
	if err != nil && !noDriver {
		return err
	}
	if asJSON {
		doc := struct {
			host.Inventory
			Error string `json:"error,omitempty"`
		}{Inventory: inv}
		if doc.Devices == nil {
			doc.Devices = []host.Device{} // scripts index into it: [] rather than null
		}
		if noDriver {
			doc.Error = err.Error()
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(doc)
	}
	if noDriver {
		_, err := fmt.Fprintln(w, err)
		return err
	}
	return inv.WriteTable(w)
}
