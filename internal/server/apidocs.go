package server

import (
	"bytes"
	"html/template"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/assessgate/assessgate/api"
)

// handleOpenAPIYAML answers GET /api/v1/openapi.yaml: the document as
// written (package api).
func (s *Server) handleOpenAPIYAML(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/yaml")
	w.Write(api.YAML)
}

// handleOpenAPIJSON answers GET /api/v1/openapi.json.
func (s *Server) handleOpenAPIJSON(w http.ResponseWriter, r *http.Request) {
	b, err := api.JSON()
	if err != nil {
		s.error(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(b)
}

// handleAPIDocs answers GET /api/docs: the document for people, rendered
// here with a template (no script, no CDN).
func (s *Server) handleAPIDocs(w http.ResponseWriter, r *http.Request) {
	d, err := api.Load()
	if err != nil {
		s.error(w, r, err)
		return
	}
	var buf bytes.Buffer
	if err := docsPage.Execute(&buf, newDocsView(d)); err != nil {
		s.error(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(buf.Bytes())
}

// docsView is what the docs page shows of the document.
type docsView struct {
	Doc        *openapi3.T
	Operations []docsOperation
	Webhooks   []docsOperation
	Schemas    []docsSchema
}

type docsOperation struct {
	Method, Path string
	Op           *openapi3.Operation
	Public       bool // no bearer token
	Body         string
	BodyLinked   bool // Body names one of the document's schemas
	Responses    []docsResponse
}

type docsResponse struct {
	Status, Description, Schema string
	Linked                      bool // Schema names one of the document's schemas
}

type docsSchema struct {
	Name       string
	Schema     *openapi3.Schema
	Properties []docsProperty
}

type docsProperty struct {
	Name, Type, Description string
	Required                bool
}

func newDocsView(d *openapi3.T) docsView {
	v := docsView{Doc: d}
	for _, path := range d.Paths.InMatchingOrder() {
		v.Operations = append(v.Operations, docsOperations(path, d.Paths.Value(path))...)
	}
	slices.SortFunc(v.Operations, func(a, b docsOperation) int { return strings.Compare(a.Path+a.Method, b.Path+b.Method) })
	for name, item := range d.Webhooks {
		v.Webhooks = append(v.Webhooks, docsOperations(name, item)...)
	}
	for _, name := range slices.Sorted(maps.Keys(d.Components.Schemas)) {
		sc := d.Components.Schemas[name].Value
		ds := docsSchema{Name: name, Schema: sc}
		props := sc.Properties
		for _, sub := range sc.AllOf {
			for k, p := range sub.Value.Properties {
				if props == nil {
					props = openapi3.Schemas{}
				}
				if _, ok := props[k]; !ok {
					props[k] = p
				}
			}
		}
		for _, k := range slices.Sorted(maps.Keys(props)) {
			p := props[k]
			desc := p.Value.Description
			ds.Properties = append(ds.Properties, docsProperty{Name: k, Type: schemaName(p), Description: desc, Required: slices.Contains(sc.Required, k)})
		}
		v.Schemas = append(v.Schemas, ds)
	}
	return v
}

func docsOperations(path string, item *openapi3.PathItem) []docsOperation {
	var ops []docsOperation
	for method, op := range item.Operations() {
		o := docsOperation{Method: method, Path: path, Op: op, Public: op.Security != nil && len(*op.Security) == 0}
		if op.RequestBody != nil {
			for _, mt := range op.RequestBody.Value.Content {
				o.Body, o.BodyLinked = schemaName(mt.Schema), mt.Schema != nil && mt.Schema.Ref != ""
			}
		}
		for _, status := range slices.Sorted(maps.Keys(op.Responses.Map())) {
			resp := op.Responses.Value(status).Value
			dr := docsResponse{Status: status, Description: *resp.Description}
			for _, mt := range resp.Content {
				dr.Schema, dr.Linked = schemaName(mt.Schema), mt.Schema != nil && mt.Schema.Ref != ""
			}
			o.Responses = append(o.Responses, dr)
		}
		ops = append(ops, o)
	}
	return ops
}

// schemaName names a schema for people: its component's name, or its type.
func schemaName(ref *openapi3.SchemaRef) string {
	if ref == nil {
		return ""
	}
	if ref.Ref != "" {
		return strings.TrimPrefix(ref.Ref, "#/components/schemas/")
	}
	sc := ref.Value
	if sc == nil {
		return ""
	}
	if sc.Items != nil {
		return "array of " + schemaName(sc.Items)
	}
	for _, alt := range sc.OneOf {
		if alt.Ref != "" {
			return schemaName(alt) + " or null"
		}
	}
	if sc.Type != nil {
		return strings.Join(sc.Type.Slice(), " or ")
	}
	return "any"
}

var docsPage = template.Must(template.New("docs").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Doc.Info.Title}} {{.Doc.Info.Version}}</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;max-width:60em;margin:2em auto;padding:0 1em;color:#222}
code,pre{font-family:ui-monospace,monospace;font-size:90%}
h2{border-bottom:1px solid #ccc;margin-top:2em}
.op{border:1px solid #ddd;border-radius:4px;padding:.5em 1em;margin:1em 0}
.m{font-weight:bold;display:inline-block;min-width:4em}
table{border-collapse:collapse}td,th{border-bottom:1px solid #eee;padding:.2em .6em;text-align:left;vertical-align:top}
</style></head><body>
<h1>{{.Doc.Info.Title}} <small>{{.Doc.Info.Version}}</small></h1>
<p>The machine-readable document: <a href="/api/v1/openapi.yaml">openapi.yaml</a>, <a href="/api/v1/openapi.json">openapi.json</a>.</p>
<pre>{{.Doc.Info.Description}}</pre>
<h2>Endpoints</h2>
{{range .Operations}}{{template "op" .}}{{end}}
<h2>Webhooks</h2>
{{range .Webhooks}}{{template "op" .}}{{end}}
<h2>Schemas</h2>
{{range .Schemas}}<div class="op" id="{{.Name}}"><h3>{{.Name}}</h3>{{with .Schema.Description}}<p>{{.}}</p>{{end}}
{{if .Properties}}<table><tr><th>field</th><th>type</th><th></th></tr>
{{range .Properties}}<tr><td><code>{{.Name}}</code>{{if .Required}} *{{end}}</td><td>{{.Type}}</td><td>{{.Description}}</td></tr>
{{end}}</table>{{else}}{{with .Schema.Enum}}<p>one of {{range .}}<code>{{.}}</code> {{end}}</p>{{end}}{{end}}</div>
{{end}}
<p>* required</p>
</body></html>
{{define "op"}}<div class="op" id="{{.Op.OperationID}}"><p><span class="m">{{.Method}}</span> <code>{{.Path}}</code> — {{.Op.Summary}}{{if .Public}} (no token){{end}}{{if .Op.Deprecated}} (deprecated){{end}}</p>
{{with .Op.Description}}<p>{{.}}</p>{{end}}
{{with .Op.Parameters}}<table><tr><th>parameter</th><th>in</th><th></th></tr>{{range .}}<tr><td><code>{{.Value.Name}}</code>{{if .Value.Required}} *{{end}}</td><td>{{.Value.In}}</td><td>{{.Value.Description}}</td></tr>{{end}}</table>{{end}}
{{if .BodyLinked}}<p>Body: <a href="#{{.Body}}">{{.Body}}</a></p>{{else if .Body}}<p>Body: {{.Body}}</p>{{end}}
<table>{{range .Responses}}<tr><td>{{.Status}}</td><td>{{.Description}}</td><td>{{if .Linked}}<a href="#{{.Schema}}">{{.Schema}}</a>{{else}}{{.Schema}}{{end}}</td></tr>{{end}}</table></div>{{end}}
`))
