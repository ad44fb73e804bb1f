package config

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// validator collects the problems found in one file. It is used by a single
// Parse call and then dropped.
type validator struct {
	file     string
	problems []problem
	privates []privateUse // every private: true read
}

// problem is one finding, at a 1-based line and column (0 when unknown).
type problem struct {
	line, column int
	msg          string
}

// addf records a problem at node n. path names the key ("feeds[2].url"), or
// is empty for a problem with the file as a whole.
func (v *validator) addf(n *yaml.Node, path, format string, args ...any) {
	v.addAt(n.Line, n.Column, path, fmt.Sprintf(format, args...))
}

// addLine records msg at line.
func (v *validator) addLine(line int, path, msg string) {
	v.addAt(line, 0, path, msg)
}

// addAt records msg at line and column. Line breaks in msg, which may
// quote the file, are escaped so that each problem stays on one line.
func (v *validator) addAt(line, column int, path, msg string) {
	if path != "" {
		msg = path + ": " + msg
	}
	msg = strings.NewReplacer("\n", `\n`, "\r", `\r`).Replace(msg)
	v.problems = append(v.problems, problem{line: line, column: column, msg: msg})
}

// err returns every recorded problem, ordered by line, as one error with a
// line per problem, or nil if there is none.
func (v *validator) err() error {
	if len(v.problems) == 0 {
		return nil
	}
	slices.SortStableFunc(v.problems, func(a, b problem) int {
		return cmp.Or(cmp.Compare(a.line, b.line), cmp.Compare(a.column, b.column))
	})
	errs := make([]error, len(v.problems))
	for i, p := range v.problems {
		if p.line > 0 {
			errs[i] = fmt.Errorf("%s:%d: %s", v.file, p.line, p.msg)
		} else {
			errs[i] = fmt.Errorf("%s: %s", v.file, p.msg)
		}
	}
	return errors.Join(errs...)
}

// splitLine splits yaml's "line N: message" (syntax errors also carry a
// "yaml: " prefix) into N and the message; N is 0 when there is no line.
func splitLine(msg string) (int, string) {
	msg = strings.TrimPrefix(msg, "yaml: ")
	num, rest, ok := strings.Cut(strings.TrimPrefix(msg, "line "), ": ")
	if !ok || !strings.HasPrefix(msg, "line ") {
		return 0, msg
	}
	line, err := strconv.Atoi(num)
	if err != nil {
		return 0, msg
	}
	return line, rest
}

// syntaxError turns a yaml parse error into the file's single problem.
func (v *validator) syntaxError(err error) error {
	line, msg := splitLine(err.Error())
	v.addLine(line, "", msg)
	return v.err()
}

// checkKeys decodes data into a schema with KnownFields(true) and records
// each unknown or repeated key at its line. Type mismatches ("cannot
// unmarshal") are left to build, which reports them with their paths.
func (v *validator) checkKeys(data []byte) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	err := dec.Decode(new(schema))
	var te *yaml.TypeError
	switch {
	case err == nil, errors.Is(err, io.EOF): // EOF: an empty file
		return
	case !errors.As(err, &te):
		line, msg := splitLine(err.Error())
		v.addLine(line, "", msg)
		return
	}
	for _, msg := range te.Errors {
		line, rest := splitLine(msg)
		if field, ok := strings.CutPrefix(rest, "field "); ok {
			if name, _, ok := strings.Cut(field, " not found in type "); ok {
				v.addLine(line, "", fmt.Sprintf("unknown key %q", name))
				continue
			}
		}
		if key, ok := strings.CutPrefix(rest, "mapping key "); ok {
			if i := strings.LastIndex(key, " already defined at line "); i >= 0 {
				first := key[i+len(" already defined at line "):]
				v.addLine(line, "", fmt.Sprintf("key %s is repeated (first at line %s)", key[:i], first))
				continue
			}
		}
		if strings.HasPrefix(rest, "cannot unmarshal ") {
			continue
		}
		v.addLine(line, "", rest)
	}
}

// schema mirrors the layout of the file for the KnownFields check. Its
// leaves are yaml.Node so that decoding never fails on a value: values are
// read from the node tree in build, which knows every line and the real
// index of every list item.
type schema struct {
	Title      yaml.Node        `yaml:"title"`
	Language   yaml.Node        `yaml:"language"`
	Listen     yaml.Node        `yaml:"listen"`
	BaseURL    yaml.Node        `yaml:"base_url"`
	DataDir    yaml.Node        `yaml:"data_dir"`
	Database   yaml.Node        `yaml:"database"`
	DBPassword yaml.Node        `yaml:"database_password_file"`
	Schedule   yaml.Node        `yaml:"schedule"`
	Fetch      schemaFetch      `yaml:"fetch"`
	Retention  schemaRetention  `yaml:"retention"`
	Output     schemaOutput     `yaml:"output"`
	HTTP       schemaHTTP       `yaml:"http"`
	Log        schemaLog        `yaml:"log"`
	WebSub     schemaWebSub     `yaml:"websub"`
	Categories []schemaCategory `yaml:"categories"`
	Feeds      []schemaFeed     `yaml:"feeds"`
	Views      []schemaView     `yaml:"views"`
	SecretFile yaml.Node        `yaml:"secret_file"`
}

type schemaView struct {
	Name         yaml.Node `yaml:"name"`
	Categories   yaml.Node `yaml:"categories"`
	Sources      yaml.Node `yaml:"sources"`
	Include      yaml.Node `yaml:"include"`
	Exclude      yaml.Node `yaml:"exclude"`
	MinSources   yaml.Node `yaml:"min_sources"`
	Sort         yaml.Node `yaml:"sort"`
	Window       yaml.Node `yaml:"window"`
	PageSize     yaml.Node `yaml:"page_size"`
	MaxPerSource yaml.Node `yaml:"max_per_source"`
	Private      yaml.Node `yaml:"private"`
}

type schemaFetch struct {
	Concurrency  yaml.Node `yaml:"concurrency"`
	PerHost      yaml.Node `yaml:"per_host"`
	Timeout      yaml.Node `yaml:"timeout"`
	MaxBody      yaml.Node `yaml:"max_body"`
	MaxItems     yaml.Node `yaml:"max_items"`
	UserAgent    yaml.Node `yaml:"user_agent"`
	HostInterval yaml.Node `yaml:"host_interval"`
	MaxInterval  yaml.Node `yaml:"max_interval"`
	// AllowPrivateRedirects is fetch.allow_private_redirects.
	AllowPrivateRedirects yaml.Node `yaml:"allow_private_redirects"`
	Proxy                 yaml.Node `yaml:"proxy"`
	FullTextConcurrency   yaml.Node `yaml:"fulltext_concurrency"`
}

type schemaRetention struct {
	MaxAge         yaml.Node `yaml:"max_age"`
	MaxPerCategory yaml.Node `yaml:"max_per_category"`
}

type schemaOutput struct {
	PageSize     yaml.Node `yaml:"page_size"`
	MaxPerSource yaml.Node `yaml:"max_per_source"`
	CacheSize    yaml.Node `yaml:"cache_size"`
}

type schemaCategory struct {
	Name    yaml.Node `yaml:"name"`
	Match   yaml.Node `yaml:"match"`
	Include yaml.Node `yaml:"include"`
	Exclude yaml.Node `yaml:"exclude"`
	Private yaml.Node `yaml:"private"`
}

type schemaFeed struct {
	URL              yaml.Node  `yaml:"url"`
	Title            yaml.Node  `yaml:"title"`
	Categories       yaml.Node  `yaml:"categories"`
	SourceCategories yaml.Node  `yaml:"source_categories"`
	Schedule         yaml.Node  `yaml:"schedule"`
	Include          yaml.Node  `yaml:"include"`
	Exclude          yaml.Node  `yaml:"exclude"`
	CategoryMap      yaml.Node  `yaml:"category_map"`
	PublicURL        yaml.Node  `yaml:"public_url"`
	Auth             schemaAuth `yaml:"auth"`
	Headers          yaml.Node  `yaml:"headers"`
	FullText         yaml.Node  `yaml:"fulltext"`
	Proxy            yaml.Node  `yaml:"proxy"`
	UserAgent        yaml.Node  `yaml:"user_agent"`
	Timeout          yaml.Node  `yaml:"timeout"`
}

type schemaAuth struct {
	Username     yaml.Node `yaml:"username"`
	PasswordFile yaml.Node `yaml:"password_file"`
}
