// The probe function of the conformance harness for fdk-go
// (protocol-spec/probe.md): each call's X-Probe header (a JSON object) says
// what to do, and the probe does it through fdk-go's public API and nothing
// else.
//
// A test fixture, not an example of style: it must not work around the FDK,
// so whatever fdk-go makes of a panic, a missed deadline or an odd status is
// exactly what the harness gets to see.
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	fdk "github.com/fnproject/fdk-go"
)

func main() {
	fdk.Handle(fdk.HandlerFunc(probe))
}

// op is one X-Probe request; unknown fields are ignored.
type op struct {
	Op          string      `json:"op"`
	Config      []string    `json:"config"`
	Status      int         `json:"status"`
	Headers     [][2]string `json:"headers"`
	Body        string      `json:"body"`
	ContentType *string     `json:"content_type"`
	Ms          int64       `json:"ms"`
	Message     string      `json:"message"`
	Bytes       int         `json:"bytes"`
	Chunks      int         `json:"chunks"`
	Size        int         `json:"size"`
	Stdout      *string     `json:"stdout"`
	Stderr      *string     `json:"stderr"`
	Code        int         `json:"code"`
}

func probe(ctx context.Context, in io.Reader, out io.Writer) {
	fctx := fdk.GetContext(ctx)
	// fdk-go shows gateway calls' client headers unprefixed, so one lookup
	// serves both call kinds.
	p := op{Op: "echo"}
	if text := fctx.Header().Get("X-Probe"); text != "" {
		if err := json.Unmarshal([]byte(text), &p); err != nil {
			fail(out, fmt.Sprintf("X-Probe %q is not a probe: %v", text, err))
			return
		}
	}

	switch p.Op {
	case "echo":
		fdk.SetHeader(out, "Content-Type", "application/octet-stream")
		io.Copy(out, in)
	case "report":
		report(ctx, fctx, in, out, p.Config)
	case "respond":
		// The status, then the headers, then the body: fdk-go buffers the
		// response and decides how each travels (Fn-Http-Status, Fn-Http-H-).
		fdk.WriteStatus(out, p.Status)
		for _, h := range p.Headers {
			fdk.AddHeader(out, h[0], h[1])
		}
		if p.ContentType != nil {
			fdk.SetHeader(out, "Content-Type", *p.ContentType)
		}
		io.WriteString(out, p.Body)
	case "sleep":
		// Go has no event loop to block: a goroutine's sleep is the ordinary way.
		time.Sleep(time.Duration(p.Ms) * time.Millisecond)
		io.WriteString(out, "slept")
	case "error":
		fail(out, p.Message)
	case "panic":
		panic(p.Message)
	case "nothing":
		// A handler that writes nothing and returns.
	case "emit":
		fdk.SetHeader(out, "Content-Type", "application/octet-stream")
		body := make([]byte, p.Bytes)
		for i := range body {
			body[i] = byte(i % 251)
		}
		out.Write(body)
	case "stream":
		// fdk-go buffers the whole response in a bytes.Buffer and its writer
		// has no Flush: it cannot stream.
		unsupported(out, "stream")
	case "log":
		if p.Stdout != nil {
			fmt.Fprintln(os.Stdout, *p.Stdout)
		}
		if p.Stderr != nil {
			fmt.Fprintln(os.Stderr, *p.Stderr)
		}
		io.WriteString(out, "logged")
	case "exit":
		os.Exit(p.Code)
	default:
		fail(out, fmt.Sprintf("unknown op %q", p.Op))
	}
}

// fail is fdk-go's documented way to fail a call: the handler has no error
// return, so (as fdk-go's own examples do) it sets an error status and
// writes a JSON error body.
func fail(out io.Writer, message string) {
	fdk.SetHeader(out, "Content-Type", "application/json")
	fdk.WriteStatus(out, 500)
	json.NewEncoder(out).Encode(map[string]string{"message": message})
}

func unsupported(out io.Writer, name string) {
	fdk.SetHeader(out, "Content-Type", "application/json")
	json.NewEncoder(out).Encode(map[string]string{"probe_unsupported": name})
}

// orderedConfig marshals the config keys in request order.
type orderedConfig struct {
	keys   []string
	values map[string]*string
}

func (c orderedConfig) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	seen := map[string]bool{}
	for _, k := range c.keys {
		if seen[k] {
			continue
		}
		seen[k] = true
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		key, _ := json.Marshal(k)
		val, _ := json.Marshal(c.values[k])
		b.Write(key)
		b.WriteByte(':')
		b.Write(val)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

type reportBody struct {
	CallID      *string       `json:"call_id"`
	Deadline    *string       `json:"deadline"`
	Gateway     bool          `json:"gateway"`
	Method      *string       `json:"method"`
	URL         *string       `json:"url"`
	ContentType *string       `json:"content_type"`
	Headers     [][2]string   `json:"headers"`
	Config      orderedConfig `json:"config"`
	BodyLen     int64         `json:"body_len"`
	BodySHA256  string        `json:"body_sha256"`
}

// nonEmpty is nil for "": fdk-go returns "" for what it does not have.
func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func report(ctx context.Context, fctx fdk.Context, in io.Reader, out io.Writer, keys []string) {
	hash := sha256.New()
	n, _ := io.Copy(hash, in)

	r := reportBody{
		CallID:      nonEmpty(fctx.CallID()),
		ContentType: nonEmpty(fctx.ContentType()),
		Headers:     [][2]string{},
		BodyLen:     n,
		BodySHA256:  hex.EncodeToString(hash.Sum(nil)),
	}
	// fdk-go turns Fn-Deadline into the context's deadline.
	if t, ok := ctx.Deadline(); ok {
		s := t.UTC().Format("2006-01-02T15:04:05Z")
		r.Deadline = &s
	}
	if h, ok := fctx.(fdk.HTTPContext); ok {
		r.Gateway = true
		r.Method = nonEmpty(h.RequestMethod())
		r.URL = nonEmpty(h.RequestURL())
	}
	// Header() is a Go map, which has no order: names sorted, values in the
	// order the FDK holds them.
	hdr := fctx.Header()
	names := make([]string, 0, len(hdr))
	for name := range hdr {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		for _, v := range hdr[name] {
			r.Headers = append(r.Headers, [2]string{strings.ToLower(name), v})
		}
	}
	cfg := fctx.Config()
	r.Config = orderedConfig{keys: keys, values: map[string]*string{}}
	for _, k := range keys {
		if v, ok := cfg[k]; ok {
			v := v
			r.Config.values[k] = &v
		}
	}
	fdk.SetHeader(out, "Content-Type", "application/json")
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	enc.Encode(r)
}
