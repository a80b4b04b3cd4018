// Generator of the server-written inputs in protocol-spec/vectors/stdio.json:
// writes request bytes the way Go's encoders in a
// 0.3.602-style server produce them (json.Encoder, http.Request.Write).
package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
	"unicode/utf8"
)

const layout = "2006-01-02T15:04:05.000Z07:00"

var (
	future = time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC).Format(layout)
	past   = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).Format(layout)
)

type reqHTTP struct {
	Type       string      `json:"type"`
	Method     string      `json:"method"`
	RequestURL string      `json:"request_url"`
	Headers    http.Header `json:"headers"`
}

type jsonIn struct {
	CallID      string  `json:"call_id"`
	Deadline    string  `json:"deadline"`
	Body        string  `json:"body"`
	ContentType string  `json:"content_type"`
	Protocol    reqHTTP `json:"protocol"`
}

type event struct {
	CloudEventsVersion string                 `json:"cloudEventsVersion"`
	EventID            string                 `json:"eventID"`
	Source             string                 `json:"source"`
	EventType          string                 `json:"eventType"`
	EventTypeVersion   string                 `json:"eventTypeVersion"`
	EventTime          time.Time              `json:"eventTime"`
	SchemaURL          string                 `json:"schemaURL"`
	ContentType        string                 `json:"contentType"`
	Extensions         map[string]interface{} `json:"extensions"`
	Data               interface{}            `json:"data,omitempty"`
}

type call struct {
	id, deadline, method, url, body string
	headers                         http.Header
}

func (c call) jsonLine() string {
	var b bytes.Buffer
	json.NewEncoder(&b).Encode(jsonIn{
		CallID: c.id, Deadline: c.deadline, Body: c.body,
		ContentType: c.headers.Get("Content-Type"),
		Protocol:    reqHTTP{"http", c.method, c.url, c.headers},
	})
	return b.String()
}

func (c call) eventLine() string {
	in := event{
		CloudEventsVersion: "0.1", EventID: c.id, Source: c.url, EventType: "http",
		ContentType: c.headers.Get("Content-Type"),
		Extensions: map[string]interface{}{
			"protocol": reqHTTP{"http", c.method, c.url, c.headers},
			"deadline": c.deadline,
		},
	}
	if len(c.body) > 0 {
		if err := json.NewDecoder(strings.NewReader(c.body)).Decode(&in.Data); err != nil {
			panic(err)
		}
	}
	var b bytes.Buffer
	json.NewEncoder(&b).Encode(in)
	return b.String()
}

// opaque hides the reader's type, so Go cannot see the length.
type opaque struct{ r io.Reader }

func (o opaque) Read(p []byte) (int, error) { return o.r.Read(p) }

func (c call) httpBytes(chunked bool) string {
	var body io.Reader = strings.NewReader(c.body)
	if chunked {
		body = opaque{body}
	}
	req, err := http.NewRequest(c.method, c.url, body)
	if err != nil {
		panic(err)
	}
	h := http.Header{}
	for k, v := range c.headers {
		h[k] = append([]string(nil), v...)
	}
	req.Header = h
	req.Header.Set("FN_DEADLINE", c.deadline)
	req.Header.Set("FN_METHOD", c.method)
	req.Header.Set("FN_REQUEST_URL", c.url)
	req.Header.Set("FN_CALL_ID", c.id)
	var b bytes.Buffer
	if err := req.Write(&b); err != nil {
		panic(err)
	}
	return b.String()
}

const fnURL = "http://localhost:8080/invoke/01CQV4M3Q7NG8G00GZJ0000001"

func curl(ct string, n int) http.Header {
	h := http.Header{"Accept": {"*/*"}, "User-Agent": {"curl/7.61.0"}}
	if ct != "" {
		h.Set("Content-Type", ct)
	}
	if n >= 0 {
		h.Set("Content-Length", itoa(n))
	}
	return h
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func post(id, dl, ct, body string) call {
	return call{id, dl, "POST", fnURL, body, curl(ct, len(body))}
}

func main() {
	out := map[string]string{}
	jimmy := `{"name":"Jimmy"}`
	id := func(n string) string { return "01CQV4NEXPNG8G00GZJ00000" + n }

	// json
	out["json-ok"] = post(id("01"), future, "application/json", jimmy).jsonLine()
	out["json-past"] = post(id("02"), past, "application/json", jimmy).jsonLine()
	out["json-reject"] = post(id("03"), future, "application/json", `{not json`).jsonLine()
	out["json-seq"] = post(id("04"), future, "text/plain", "one").jsonLine() +
		post(id("05"), future, "text/plain", "two").jsonLine() +
		post(id("06"), future, "application/json", `{"n":3}`).jsonLine()
	out["json-escapes"] = post(id("07"), future, "text/html; charset=utf-8",
		"<b>h\u00e9llo</b> & \"q\" \\ tab\tline\nsep\u2028end \U0001F600").jsonLine()
	multi := curl("text/plain", 2)
	multi["X-Multi"] = []string{"a", "b"}
	out["json-multi"] = call{id("08"), future, "POST", fnURL, "hi", multi}.jsonLine()

	// http
	out["http-ok"] = post(id("11"), future, "application/json", jimmy).httpBytes(false)
	out["http-past"] = post(id("12"), past, "application/json", jimmy).httpBytes(false)
	out["http-reject"] = post(id("13"), future, "application/json", `{not json`).httpBytes(false)
	out["http-chunked"] = call{id("14"), future, "POST", fnURL, "chunked body\n", curl("text/plain", -1)}.httpBytes(true) +
		post(id("15"), future, "text/plain", "sized").httpBytes(false)
	out["http-get"] = call{id("16"), future, "GET", "http://localhost:8080/t/myapp/hello?x=1&y=two%20words", "", curl("", -1)}.httpBytes(false)
	bin := string([]byte{0x00, 0x01, 0x02, 0x7f, 0x80, 0xfe, 0xff, '\r', '\n', 'o', 'k', 0xc3, 0x28})
	out["http-binary"] = post(id("17"), future, "application/octet-stream", bin).httpBytes(false)
	out["http-longer"] = func() string {
		c := post(id("18"), future, "text/plain", "hello there\r\n\r\n")
		c.headers.Set("Content-Length", "2")
		s := c.httpBytes(false)
		// Go writes the real length; make the declared length short by hand.
		return strings.Replace(s, "Content-Length: 15\r\n", "Content-Length: 2\r\n", 1)
	}()

	// cloudevent
	out["ce-json"] = post(id("21"), future, "application/json", jimmy).eventLine()
	out["ce-text"] = post(id("22"), future, "text/plain", `"hello"`).eventLine()
	out["ce-jsonstring"] = post(id("23"), future, "application/json", `"hi"`).eventLine()
	out["ce-nodata"] = call{id("24"), future, "POST", fnURL, "", curl("", 0)}.eventLine()
	out["ce-past"] = post(id("25"), past, "application/json", jimmy).eventLine()
	out["ce-ok2"] = post(id("26"), future, "application/json", `{"b":2,"a":[1,2.5,"x"]}`).eventLine()

	res := map[string]map[string]string{}
	for k, v := range out {
		if utf8.ValidString(v) {
			res[k] = map[string]string{"input": v}
		} else {
			res[k] = map[string]string{"input_b64": base64.StdEncoding.EncodeToString([]byte(v))}
		}
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", " ")
	enc.Encode(res)
}
