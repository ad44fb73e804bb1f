package config

import (
	"log/slog"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Log formats accepted by log.format.
const (
	LogFormatText = "text"
	LogFormatJSON = "json"
)

// Log holds the log.* settings.
type Log struct {
	// Format is LogFormatText (the default) or LogFormatJSON.
	Format string
	// Level is the lowest level logged. Default info.
	Level slog.Level
}

type schemaLog struct {
	Format yaml.Node `yaml:"format"`
	Level  yaml.Node `yaml:"level"`
}

// logSettings reads the log: mapping.
func (v *validator) logSettings(n *yaml.Node) Log {
	m, _ := v.mapping(n, "log")
	l := Log{Format: LogFormatText, Level: slog.LevelInfo}
	if s, node, ok := v.scalar(m["format"], "log.format"); ok {
		switch s {
		case LogFormatText, LogFormatJSON:
			l.Format = s
		default:
			v.addf(node, "log.format", "must be %q or %q, found %q", LogFormatText, LogFormatJSON, s)
		}
	}
	if s, node, ok := v.scalar(m["level"], "log.level"); ok {
		if err := l.Level.UnmarshalText([]byte(strings.ToLower(s))); err != nil {
			v.addf(node, "log.level", "must be debug, info, warn or error, found %q", s)
		}
	}
	return l
}
