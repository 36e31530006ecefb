// This file names authenticators from their AAGUID, so that a new passkey
// is called "iCloud Keychain" rather than "Passkey" until the user renames
// it. The list is small and holds only widely used authenticators; its
// source and licence are in NOTICE.

package pbxauth

import "encoding/hex"

// aaguidNames maps an AAGUID (hex, no dashes) to its authenticator's name.
// Source: the public passkey-authenticator-aaguids list (CC0-1.0), see NOTICE.
var aaguidNames = map[string]string{
	"fbfc3007154e4ecc8c0b6e020557d7bd": "iCloud Keychain",
	"dd4ec289e01d41c9bb8970fa845d4bf2": "iCloud Keychain (Managed)",
	"ea9b8d664d011d213ce4b6b48cb575d4": "Google Password Manager",
	"adce000235bcc60a648b0b25f1f05503": "Chrome on Mac",
	"08987058cadc4b81b6e130de50dcbe96": "Windows Hello",
	"9ddd1817af5a4672a2b93e3dd95000a9": "Windows Hello",
	"6028b017b1d44c02b4b3afcdafc96bb2": "Windows Hello",
	"bada5566a7aa401fbd9645619a55120d": "1Password",
	"d548826e79b4db40a3d811116f7e8349": "Bitwarden",
	"fdb141b25d84443e8a354698c205a502": "KeePassXC",
	"531126d6e717415c93203d9aa6981239": "Dashlane",
	"50726f746f6e5061737350726f746f6e": "Proton Pass",
	"53414d53554e47000000000000000000": "Samsung Pass",
	"ee882879721c491397753dfcce97072a": "YubiKey 5 Series",
	"fa2b99dc9e3942578f924a30d23c4118": "YubiKey 5 Series with NFC",
	"cb69481e8ff7403993ec0a2729a154a8": "YubiKey 5 Series",
}

// defaultPasskeyName names a passkey whose authenticator is not listed.
const defaultPasskeyName = "Passkey"

// authenticatorName names the authenticator of aaguid, or "Passkey".
func authenticatorName(aaguid []byte) string {
	if n, ok := aaguidNames[hex.EncodeToString(aaguid)]; ok {
		return n
	}
	return defaultPasskeyName
}
