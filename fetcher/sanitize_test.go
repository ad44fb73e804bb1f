package fetcher

import (
	"net/url"
	"strings"
	"testing"
)

func TestAbsolutizeHTML(t *testing.T) {
	base, err := url.Parse("https://example.com/news/2025/story.html?id=7")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		in   string
		base *url.URL
		want string
	}{
		{name: "text without tags untouched", in: "a < b & c", base: base, want: "a < b & c"},
		{name: "relative href", in: `<a href="../about.html">x</a>`, base: base, want: `<a href="https://example.com/news/about.html">x</a>`},
		{name: "root-relative src", in: `<img src="/i/a.png" alt="A">`, base: base, want: `<img src="https://example.com/i/a.png" alt="A">`},
		{name: "protocol-relative src", in: `<img src="//cdn.example.org/a.png">`, base: base, want: `<img src="https://cdn.example.org/a.png">`},
		{name: "fragment href", in: `<a href="#fn1">1</a>`, base: base, want: `<a href="https://example.com/news/2025/story.html?id=7#fn1">1</a>`},
		{name: "absolute kept", in: `<a href="https://other.example/x?a=1&amp;b=2">x</a>`, base: base, want: `<a href="https://other.example/x?a=1&amp;b=2">x</a>`},
		{name: "mailto kept", in: `<a href="mailto:ed@example.com">ed</a>`, base: base, want: `<a href="mailto:ed@example.com">ed</a>`},
		{name: "srcset", in: `<img srcset="a.png 1x, /b.png 2x,c.png">`, base: base, want: `<img srcset="https://example.com/news/2025/a.png 1x, https://example.com/b.png 2x, https://example.com/news/2025/c.png">`},
		{name: "srcset width descriptors and bad candidates", in: `<img srcset="data:image/png;base64,AAA 1x, s.png 480w, javascript:x 2x, t.png bogus">`, base: base, want: `<img srcset="https://example.com/news/2025/s.png 480w">`},
		{name: "srcset emptied is dropped", in: `<img src="a.png" srcset="javascript:alert(1) 1x">`, base: base, want: `<img src="https://example.com/news/2025/a.png">`},
		{name: "poster and cite", in: `<video poster="p.jpg"></video><blockquote cite="/src">q</blockquote>`, base: base, want: `<video poster="https://example.com/news/2025/p.jpg"></video><blockquote cite="https://example.com/src">q</blockquote>`},
		{name: "javascript href dropped", in: `<a href=" JaVaScRiPt:alert(1)">x</a>`, base: base, want: `<a>x</a>`},
		{name: "entity-encoded javascript href dropped", in: `<a href="javascript&#58;alert(1)">x</a>`, base: base, want: `<a>x</a>`},
		{name: "data src dropped", in: `<img src="data:image/svg+xml;base64,PHN2Zz4=">`, base: base, want: `<img>`},
		{name: "empty href dropped", in: `<a href="">x</a>`, base: base, want: `<a>x</a>`},
		{name: "no base: relative dropped, absolute kept", in: `<a href="/x">x</a><img src="https://a.example/i.png">`, want: `<a>x</a><img src="https://a.example/i.png">`},
		{name: "other bytes copied as is", in: "<p class=x>María &amp; “quotes” <!-- c --></p>", base: base, want: "<p class=x>María &amp; “quotes” <!-- c --></p>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := absolutizeHTML(tt.in, tt.base); got != tt.want {
				t.Errorf("absolutizeHTML(%q)\n got %s\nwant %s", tt.in, got, tt.want)
			}
		})
	}
}

func TestSanitizeHTML(t *testing.T) {
	base, err := url.Parse("https://example.com/post/")
	if err != nil {
		t.Fatal(err)
	}
	p := newPolicy()
	tests := []struct {
		name string
		in   string
		want string
	}{
		{name: "script removed with its content", in: `<p>a</p><script>alert("x")</script><p>b</p>`, want: `<p>a</p><p>b</p>`},
		{name: "unclosed script", in: `<p>a</p><script>alert(1)`, want: `<p>a</p>`},
		{name: "style removed", in: `<style>p{color:red}</style><p style="color:red">a</p>`, want: `<p>a</p>`},
		{name: "iframe object embed form removed", in: `<iframe src="https://evil.example/"></iframe><object data="x.swf"></object><embed src="x.swf"><form action="/x"><input name="q"></form>ok`, want: `ok`},
		{name: "event handler removed", in: `<img src="https://example.com/x.png" onerror="alert(1)">`, want: `<img src="https://example.com/x.png">`},
		{name: "svg onload removed", in: `<svg onload="alert(1)"><circle r="1"/></svg>after`, want: `after`},
		{name: "javascript link loses href", in: `<a href="javascript:alert(1)">click</a>`, want: `click`},
		{name: "data URI image dropped", in: `<img src="data:image/png;base64,iVBORw0KGgo=">text`, want: `text`},
		{name: "links get rel and target", in: `<a href="/a">a</a>`, want: `<a href="https://example.com/a" rel="nofollow noopener" target="_blank">a</a>`},
		{name: "figure table pre code kept", in: `<figure><img src="i.png" alt="i"><figcaption>c</figcaption></figure><table><tr><td>1</td></tr></table><pre><code>x := 1</code></pre>`,
			want: `<figure><img src="https://example.com/post/i.png" alt="i"><figcaption>c</figcaption></figure><table><tr><td>1</td></tr></table><pre><code>x := 1</code></pre>`},
		{name: "nested and unclosed tags", in: `<p><b><i>deep</p><div><span>open`, want: `<p><b><i>deep</p><div><span>open`},
		{name: "plain text is escaped to read as text", in: `5 < 6 & "seven"`, want: `5 &lt; 6 &amp; &#34;seven&#34;`},
		{name: "entity decoded once", in: `Fed&#8217;s &eacute; AT&amp;T`, want: `Fed’s é AT&amp;T`},
		{name: "double-escaped entity stays visible", in: `AT&amp;amp;T`, want: `AT&amp;amp;T`},
		{name: "non-ASCII byte-exact", in: `<p>U.S.–Russia, María Paula Mijares Torres, “quoted”</p>`, want: `<p>U.S.–Russia, María Paula Mijares Torres, “quoted”</p>`},
		{name: "video with poster", in: `<video src="v.mp4" poster="p.jpg" controls onplay="x()"></video>`, want: `<video src="https://example.com/post/v.mp4" poster="https://example.com/post/p.jpg" controls=""></video>`},
		{name: "empty", in: "", want: ""},
		{name: "only hostile", in: `<script>x</script>`, want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := sanitizeHTML(p, tt.in, base)
			if got != tt.want {
				t.Errorf("sanitizeHTML(%q)\n got %s\nwant %s", tt.in, got, tt.want)
			}
			normAssertSafe(t, got)
		})
	}
}

func TestPlainText(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{name: "plain", in: "  Hello\n\tworld  ", want: "Hello world"},
		{name: "entities decoded once", in: "Fed&#8217;s AT&amp;T &amp;amp; co", want: "Fed’s AT&T &amp; co"},
		{name: "tags stripped, blocks separate words", in: "<p>one</p><p>two<br>three</p>", want: "one two three"},
		{name: "inline tags do not split words", in: "Ukr<b>aine</b> <a href=x>link</a>", want: "Ukraine link"},
		{name: "script and style dropped", in: "a<script>var x = '<p>';</script>b<style>p{}</style>c", want: "abc"},
		{name: "lone less-than kept", in: "5 < 6", want: "5 < 6"},
		{name: "control characters removed", in: "a\x00b\x07c", want: "abc"},
		{name: "invalid UTF-8 replaced", in: "a\xffb", want: "a\uFFFDb"},
		{name: "non-ASCII byte-exact", in: "U.S.–Russia Relations", want: "U.S.–Russia Relations"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := plainText(tt.in); got != tt.want {
				t.Errorf("plainText(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestExcerpt(t *testing.T) {
	tests := []struct {
		name, in string
		n        int
		want     string
	}{
		{name: "short", in: "short text", n: 80, want: "short text"},
		{name: "cut at word", in: "alpha beta gamma delta", n: 13, want: "alpha beta…"},
		{name: "no space to cut at", in: strings.Repeat("x", 20), n: 10, want: strings.Repeat("x", 10) + "…"},
		{name: "runes not bytes", in: "éééé éééé", n: 6, want: "éééé…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := excerpt(tt.in, tt.n); got != tt.want {
				t.Errorf("excerpt(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
			}
		})
	}
}
