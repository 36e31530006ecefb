package pbxauth

import "testing"

func TestMS365Issuer(t *testing.T) {
	for _, tc := range []struct {
		m                 MS365
		discovery, issuer string
		configured        bool
	}{
		{MS365{ApplicationID: "app", DirectoryID: "dir"},
			"https://login.microsoftonline.com/dir/v2.0", "https://login.microsoftonline.com/dir/v2.0", true},
		{MS365{ApplicationID: "app", DirectoryID: "dir", NationalCloud: "GLOBAL"},
			"https://login.microsoftonline.com/dir/v2.0", "https://login.microsoftonline.com/dir/v2.0", true},
		// The China cloud is discovered at chinacloudapi.cn but signs as partner.microsoftonline.cn.
		{MS365{ApplicationID: "app", DirectoryID: "dir", NationalCloud: "china"},
			"https://login.chinacloudapi.cn/dir/v2.0", "https://login.partner.microsoftonline.cn/dir/v2.0", true},
		{MS365{ApplicationID: "app", DirectoryID: "dir", NationalCloud: "CHINA", Issuer: "http://127.0.0.1:5556/oidc"},
			"http://127.0.0.1:5556/oidc", "http://127.0.0.1:5556/oidc", true},
		{MS365{ApplicationID: "app", Issuer: "http://127.0.0.1:5556/oidc"},
			"http://127.0.0.1:5556/oidc", "http://127.0.0.1:5556/oidc", true},
		{MS365{ApplicationID: "app", DirectoryID: "dir", NationalCloud: "USGOV"}, "", "", false},
		{MS365{ApplicationID: "app"}, "https://login.microsoftonline.com//v2.0", "https://login.microsoftonline.com//v2.0", false},
		{MS365{DirectoryID: "dir"}, "https://login.microsoftonline.com/dir/v2.0", "https://login.microsoftonline.com/dir/v2.0", false},
	} {
		d, i, _ := tc.m.issuer()
		if d != tc.discovery || i != tc.issuer || tc.m.configured() != tc.configured {
			t.Errorf("%+v: %q %q configured=%v", tc.m, d, i, tc.m.configured())
		}
	}
	var none *MS365
	if none.configured() {
		t.Error("nil settings are configured")
	}
}
