package config_test

import (
	"fmt"
	"testing"

	"github.com/tributary/tributary/config"
)

func TestSlug(t *testing.T) {
	tests := []struct{ name, want string }{
		{"U.S.–Russia Relations", "u-s-russia-relations"},
		{"Foreign Policy & International Relations", "foreign-policy-international-relations"},
		{"U.S.–NATO Relations", "u-s-nato-relations"},
		{"Café Société", "cafe-societe"},
		{"Ｗｏｒｌｄ", "world"},
		{"!!!", ""},
		{"", ""},
		{"World", "world"},
		{"  --Go  1.26-- ", "go-1-26"},
		{"Ångström Ünïcode", "angstrom-unicode"},
		{"ﬁnance", "finance"}, // ligature, split by NFKD
		{"Москва", ""},        // no a-z: Cyrillic is not transliterated
		{"Sports/Cricket", "sports-cricket"},
		{"ALL", "all"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := config.Slug(tt.name); got != tt.want {
				t.Errorf("Slug(%q) = %q, want %q", tt.name, got, tt.want)
			}
		})
	}
}

func ExampleSlug() {
	fmt.Println(config.Slug("U.S.–Russia Relations"))
	fmt.Println(config.Slug("Café Société"))
	fmt.Printf("%q\n", config.Slug("!!!"))
	// Output:
	// u-s-russia-relations
	// cafe-societe
	// ""
}
