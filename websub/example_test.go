package websub_test

import (
	"fmt"
	"net/url"

	"github.com/tributary/tributary/websub"
)

// A source's hub and topic come from its Link header, else from the
// feed-level links of the document.
func ExampleDiscover() {
	base, _ := url.Parse("https://blog.example/feed.xml")
	body := []byte(`<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel>
<atom:link rel="hub" href="https://hub.example/"/>
<atom:link rel="self" href="/feed.xml"/>
<item><title>First</title></item></channel></rss>`)
	hub, topic := websub.Discover(base, nil, body)
	fmt.Println(hub, topic)
	// Output: https://hub.example/ https://blog.example/feed.xml
}

// A push is taken only when its X-Hub-Signature is the HMAC of its body
// under the subscription's secret.
func ExampleVerify() {
	body := []byte("<feed/>")
	sig := websub.Sign("per-subscription secret", body)
	fmt.Println(websub.Verify("per-subscription secret", body, sig))
	fmt.Println(websub.Verify("per-subscription secret", []byte("<feed>forged</feed>"), sig))
	// Output:
	// true
	// false
}
