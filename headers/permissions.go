package headers

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// Feature is a Permissions-Policy feature. The constants are the
// features the builder accepts; other names are rejected so a typo fails
// at startup instead of silently allowing the feature.
type Feature string

// Policy-controlled features known to current browsers.
const (
	Accelerometer              Feature = "accelerometer"
	AmbientLightSensor         Feature = "ambient-light-sensor"
	AttributionReporting       Feature = "attribution-reporting"
	Autoplay                   Feature = "autoplay"
	Bluetooth                  Feature = "bluetooth"
	BrowsingTopics             Feature = "browsing-topics"
	Camera                     Feature = "camera"
	ComputePressure            Feature = "compute-pressure"
	CrossOriginIsolated        Feature = "cross-origin-isolated"
	DisplayCapture             Feature = "display-capture"
	EncryptedMedia             Feature = "encrypted-media"
	Fullscreen                 Feature = "fullscreen"
	Gamepad                    Feature = "gamepad"
	Geolocation                Feature = "geolocation"
	Gyroscope                  Feature = "gyroscope"
	HID                        Feature = "hid"
	IdentityCredentialsGet     Feature = "identity-credentials-get"
	IdleDetection              Feature = "idle-detection"
	LocalFonts                 Feature = "local-fonts"
	Magnetometer               Feature = "magnetometer"
	Microphone                 Feature = "microphone"
	MIDI                       Feature = "midi"
	OTPCredentials             Feature = "otp-credentials"
	Payment                    Feature = "payment"
	PictureInPicture           Feature = "picture-in-picture"
	PublicKeyCredentialsCreate Feature = "publickey-credentials-create"
	PublicKeyCredentialsGet    Feature = "publickey-credentials-get"
	ScreenWakeLock             Feature = "screen-wake-lock"
	Serial                     Feature = "serial"
	SpeakerSelection           Feature = "speaker-selection"
	StorageAccess              Feature = "storage-access"
	USB                        Feature = "usb"
	WebShare                   Feature = "web-share"
	WindowManagement           Feature = "window-management"
	XRSpatialTracking          Feature = "xr-spatial-tracking"
)

var knownFeatures = map[Feature]bool{
	Accelerometer: true, AmbientLightSensor: true, AttributionReporting: true,
	Autoplay: true, Bluetooth: true, BrowsingTopics: true, Camera: true,
	ComputePressure: true, CrossOriginIsolated: true, DisplayCapture: true,
	EncryptedMedia: true, Fullscreen: true, Gamepad: true, Geolocation: true,
	Gyroscope: true, HID: true, IdentityCredentialsGet: true, IdleDetection: true,
	LocalFonts: true, Magnetometer: true, Microphone: true, MIDI: true,
	OTPCredentials: true, Payment: true, PictureInPicture: true,
	PublicKeyCredentialsCreate: true, PublicKeyCredentialsGet: true,
	ScreenWakeLock: true, Serial: true, SpeakerSelection: true, StorageAccess: true,
	USB: true, WebShare: true, WindowManagement: true, XRSpatialTracking: true,
}

// Allow is one member of a feature's allowlist.
type Allow string

// Allowlist keywords.
const (
	AllowSelf Allow = "self" // the page's own origin
	AllowSrc  Allow = "src"  // an iframe's src origin (iframe allow= only)
	AllowAll  Allow = "*"    // every origin; must be alone
)

// AllowOrigin returns an allowlist member for one exact origin,
// "https://maps.example.com[:port]". It is validated with the policy.
func AllowOrigin(origin string) Allow { return Allow(`"` + origin + `"`) }

// PermissionsPolicy is an immutable Permissions-Policy under
// construction: each method returns a modified copy. Invalid input is
// kept as the first error, returned by Validate (and so by
// WithPermissionsPolicy). The zero value is an empty policy, which
// renders as "" and sends no header.
type PermissionsPolicy struct {
	entries []permEntry
	err     error
}

type permEntry struct {
	feature Feature
	allow   []Allow
}

// DefaultPermissionsPolicy turns off the powerful features an API or a
// typical web page never uses, so that neither injected script nor an
// embedded third party can ask for them:
//
//	accelerometer=(), browsing-topics=(), camera=(), display-capture=(),
//	geolocation=(), gyroscope=(), hid=(), magnetometer=(), microphone=(),
//	midi=(), payment=(), serial=(), usb=()
func DefaultPermissionsPolicy() PermissionsPolicy {
	return PermissionsPolicy{}.Deny(
		Accelerometer, BrowsingTopics, Camera, DisplayCapture, Geolocation,
		Gyroscope, HID, Magnetometer, Microphone, MIDI, Payment, Serial, USB,
	)
}

func (p PermissionsPolicy) fail(err error) PermissionsPolicy {
	if p.err == nil {
		p.err = err
	}
	return p
}

func (p PermissionsPolicy) set(f Feature, allow []Allow) PermissionsPolicy {
	if !knownFeatures[f] {
		return p.fail(fmt.Errorf("unknown feature %q", string(f)))
	}
	q := p
	q.entries = slices.Clone(p.entries)
	for i := range q.entries {
		if q.entries[i].feature == f {
			q.entries[i].allow = allow
			return q
		}
	}
	q.entries = append(q.entries, permEntry{f, allow})
	return q
}

// Deny returns p with each feature turned off everywhere (feature=()).
func (p PermissionsPolicy) Deny(features ...Feature) PermissionsPolicy {
	for _, f := range features {
		p = p.set(f, nil)
	}
	return p
}

// Allow returns p with feature f allowed for exactly the given members
// (AllowSelf, AllowAll, AllowOrigin(...)); with no member it is Deny.
func (p PermissionsPolicy) Allow(f Feature, members ...Allow) PermissionsPolicy {
	for _, m := range members {
		if err := checkAllow(m); err != nil {
			return p.fail(fmt.Errorf("%s: %w", f, err))
		}
	}
	if len(members) > 1 && slices.Contains(members, AllowAll) {
		return p.fail(fmt.Errorf("%s: * must be the only member", f))
	}
	return p.set(f, slices.Clone(members))
}

// Validate returns the first invalid input given to the builder.
func (p PermissionsPolicy) Validate() error { return p.err }

// String renders the header value; features keep the order they were
// first given in.
func (p PermissionsPolicy) String() string {
	if p.err != nil {
		return ""
	}
	var b strings.Builder
	for i, e := range p.entries {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(string(e.feature))
		b.WriteByte('=')
		if len(e.allow) == 1 && e.allow[0] == AllowAll {
			b.WriteByte('*')
			continue
		}
		b.WriteByte('(')
		for j, m := range e.allow {
			if j > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(string(m))
		}
		b.WriteByte(')')
	}
	return b.String()
}

func checkAllow(m Allow) error {
	switch m {
	case AllowSelf, AllowSrc, AllowAll:
		return nil
	}
	s := string(m)
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return fmt.Errorf("invalid allowlist member %q (use AllowSelf, AllowAll or AllowOrigin)", s)
	}
	if err := checkOrigin(s[1 : len(s)-1]); err != nil {
		return fmt.Errorf("invalid origin %s: %w", s, err)
	}
	return nil
}

// checkOrigin accepts exactly scheme://host[:port] with an http(s) scheme.
func checkOrigin(o string) error {
	scheme, rest, ok := strings.Cut(o, "://")
	if !ok || (scheme != "https" && scheme != "http") {
		return errors.New("want https://host[:port]")
	}
	if rest == "" || strings.ContainsAny(rest, "/?#@\\\"' ") {
		return errors.New("want https://host[:port] with no path, userinfo or query")
	}
	host := rest
	if strings.HasPrefix(rest, "[") {
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return errors.New("unclosed IPv6 bracket")
		}
		a, err := netip.ParseAddr(rest[1:end])
		if err != nil || !a.Is6() || a.Zone() != "" {
			return errors.New("invalid IPv6 address")
		}
		host = rest[end+1:]
		if host == "" {
			return nil
		}
		if host[0] != ':' {
			return errors.New("junk after IPv6 address")
		}
		return checkPort(host[1:])
	}
	if i := strings.LastIndexByte(rest, ':'); i >= 0 {
		if err := checkPort(rest[i+1:]); err != nil {
			return err
		}
		host = rest[:i]
	}
	for _, label := range strings.Split(host, ".") {
		if label == "" || len(label) > 63 {
			return errors.New("invalid host")
		}
		for k := 0; k < len(label); k++ {
			c := label[k]
			if !(c == '-' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z') {
				return errors.New("invalid host (lower-case letters, digits, '-' and '.')")
			}
		}
	}
	return nil
}

func checkPort(p string) error {
	n, err := strconv.Atoi(p)
	if err != nil || n < 1 || n > 65535 || p[0] == '0' {
		return fmt.Errorf("invalid port %q", p)
	}
	return nil
}
