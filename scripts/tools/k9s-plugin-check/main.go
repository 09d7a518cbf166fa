// k9s-plugin-check reads a k9s plugin file the way k9s does and prints what k9s would run.
//
// It is built by scripts/tools/build.sh inside a copy of k9s's own module (the version pinned
// there), so that it can use k9s's internal code rather than a copy of it: the file is validated
// with k9s's JSON-schema validator and schemas (internal/config/json, as config.Plugins.load does:
// plugins.json, then plugin.json, then plugin-multi.json), and each argument is expanded with k9s's
// Env.Substitute (internal/view/env.go, copied next to this file at build time, package renamed).
//
// Usage: k9s-plugin-check FILE [KEY=VALUE...]
//
// KEY=VALUE pairs are the view's environment (what k9s's pod view sets: NAMESPACE, NAME, CONTEXT,
// CLUSTER, USER, GROUPS, KUBECONFIG; the container view also POD, with NAME the container's).
// stdout: one JSON object {"schema": ..., "plugins": {NAME: {...plugin, "args": [expanded]}}};
// exit 1 with the validator's message on stderr when the file is not a valid plugin file.
package main

import (
	stdjson "encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/derailed/k9s/internal/config/json"
	"gopkg.in/yaml.v3"
)

// plugin has the fields of k9s's config.Plugin (the same yaml keys).
type plugin struct {
	Scopes          []string `yaml:"scopes" json:"scopes"`
	Args            []string `yaml:"args" json:"args"`
	ShortCut        string   `yaml:"shortCut" json:"shortCut"`
	Override        bool     `yaml:"override" json:"override"`
	Pipes           []string `yaml:"pipes" json:"pipes"`
	Description     string   `yaml:"description" json:"description"`
	Command         string   `yaml:"command" json:"command"`
	Confirm         bool     `yaml:"confirm" json:"confirm"`
	Background      bool     `yaml:"background" json:"background"`
	Dangerous       bool     `yaml:"dangerous" json:"dangerous"`
	OverwriteOutput bool     `yaml:"overwriteOutput" json:"overwriteOutput"`
}

func main() {
	// k9s logs a warning for every $WORD it has no value for ($1 in an sh script); not our output.
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: k9s-plugin-check FILE [KEY=VALUE...]")
		os.Exit(2)
	}
	bb, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	schema, err := json.NewValidator().ValidatePlugins(bb)
	if err != nil {
		fmt.Fprintf(os.Stderr, "k9s rejects %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
	pp := map[string]plugin{}
	switch schema {
	case json.PluginsSchema:
		var doc struct {
			Plugins map[string]plugin `yaml:"plugins"`
		}
		err = yaml.Unmarshal(bb, &doc)
		pp = doc.Plugins
	case json.PluginSchema:
		var p plugin
		err = yaml.Unmarshal(bb, &p)
		pp["plugin"] = p
	default:
		err = yaml.Unmarshal(bb, &pp)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "k9s cannot read %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
	env := Env{}
	for _, kv := range os.Args[2:] {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	for name, p := range pp {
		args := make([]string, len(p.Args))
		for i, a := range p.Args {
			if args[i], err = env.Substitute(a); err != nil {
				fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
				os.Exit(1)
			}
		}
		p.Args = args
		pp[name] = p
	}
	out, _ := stdjson.Marshal(map[string]any{"schema": schema, "plugins": pp})
	fmt.Println(string(out))
}
