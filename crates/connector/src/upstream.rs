//! The upstream policy: which addresses flowd may connect to, checked on the address actually
//! connected to — after DNS resolution, so a hostname resolving to a denied address (DNS
//! rebinding included) is refused like the address itself, and every numeric spelling of an
//! address (`0x7f000001`, `2130706433`, `[::ffff:127.0.0.1]`) is read as the address it is.
//!
//! Every outbound connection goes through one `reqwest::Client` built by
//! [`crate::HttpClient::new`]: page fetches, next-page links, redirects, token refreshes and
//! `authorizationTestUrl` probes. Its resolver ([`PolicyResolver`]) drops denied addresses and
//! fails a name left with none; a URL whose host is an address literal (never resolved) is
//! checked by [`UpstreamPolicy::check_url`] before it is sent; redirects are followed only
//! within the origin of the request (at most [`MAX_REDIRECTS`]) and each target is checked.
//! Environment proxies are not used: through a proxy, the proxy would pick the address.
//!
//! An address is refused when a `deny` rule contains it and no `allow` rule does. The default
//! denies `link-local` (cloud metadata endpoints such as 169.254.169.254) and allows the rest,
//! so a self-hosted flowd reaches internal APIs out of the box; a shared deployment adds
//! `private` and `loopback`.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::str::FromStr;
use std::sync::Arc;

use ipnet::IpNet;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::Url;

/// Redirects followed for one request.
pub const MAX_REDIRECTS: usize = 5;

/// A set of addresses a rule names: one of the named classes, or a CIDR block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetRule {
    /// 127.0.0.0/8, ::1, and the unspecified addresses 0.0.0.0/8 and :: (which connect to
    /// the local host).
    Loopback,
    /// RFC 1918 (10/8, 172.16/12, 192.168/16), shared address space 100.64/10, and unique
    /// local IPv6 fc00::/7.
    Private,
    /// 169.254/16 and fe80::/10: where cloud metadata services answer.
    LinkLocal,
    /// Any CIDR block (`10.1.0.0/16`) or single address.
    Net(IpNet),
}

impl NetRule {
    /// Whether `address` (IPv4-mapped IPv6 read as IPv4) is in the rule's set.
    pub fn contains(&self, address: IpAddr) -> bool {
        let address = canonical(address);
        match self {
            NetRule::Loopback => match address {
                IpAddr::V4(v4) => v4.is_loopback() || v4.octets()[0] == 0,
                IpAddr::V6(v6) => v6.is_loopback() || v6.is_unspecified(),
            },
            NetRule::Private => match address {
                IpAddr::V4(v4) => v4.is_private() || in_v4(v4, Ipv4Addr::new(100, 64, 0, 0), 10),
                IpAddr::V6(v6) => (v6.segments()[0] & 0xfe00) == 0xfc00,
            },
            NetRule::LinkLocal => match address {
                IpAddr::V4(v4) => v4.is_link_local(),
                IpAddr::V6(v6) => (v6.segments()[0] & 0xffc0) == 0xfe80,
            },
            NetRule::Net(net) => net.contains(&address) || net.contains(&canonical_v6(address)),
        }
    }
}

fn in_v4(address: Ipv4Addr, network: Ipv4Addr, prefix: u32) -> bool {
    let mask = u32::MAX << (32 - prefix);
    u32::from(address) & mask == u32::from(network) & mask
}

/// IPv4-mapped (`::ffff:a.b.c.d`) and IPv4-compatible (`::a.b.c.d`) addresses as IPv4.
fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let segments = v6.segments();
                let compatible = segments[..6].iter().all(|segment| *segment == 0)
                    && !v6.is_loopback()
                    && !v6.is_unspecified();
                match compatible {
                    true => IpAddr::V4(Ipv4Addr::new(
                        (segments[6] >> 8) as u8,
                        segments[6] as u8,
                        (segments[7] >> 8) as u8,
                        segments[7] as u8,
                    )),
                    false => address,
                }
            }
        },
        v4 => v4,
    }
}

/// An IPv4 address as IPv4-mapped IPv6, so an IPv6 CIDR written for mapped addresses applies.
fn canonical_v6(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(v4) => IpAddr::V6(v4.to_ipv6_mapped()),
        v6 => v6,
    }
}

impl FromStr for NetRule {
    type Err = String;

    fn from_str(text: &str) -> Result<NetRule, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "loopback" => Ok(NetRule::Loopback),
            "private" => Ok(NetRule::Private),
            "link-local" | "linklocal" => Ok(NetRule::LinkLocal),
            other => other
                .parse::<IpNet>()
                .or_else(|_| other.parse::<IpAddr>().map(IpNet::from))
                .map(NetRule::Net)
                .map_err(|_| {
                    format!(
                        "{text:?} is not a network: give a CIDR block (10.0.0.0/8), an address, loopback, private or link-local"
                    )
                }),
        }
    }
}

impl fmt::Display for NetRule {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NetRule::Loopback => formatter.write_str("loopback"),
            NetRule::Private => formatter.write_str("private"),
            NetRule::LinkLocal => formatter.write_str("link-local"),
            NetRule::Net(net) => write!(formatter, "{net}"),
        }
    }
}

/// Which upstream addresses flowd may connect to (`--deny-upstream`, `--allow-upstream`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamPolicy {
    deny: Vec<NetRule>,
    allow: Vec<NetRule>,
}

impl Default for UpstreamPolicy {
    /// Denies `link-local`, allows the rest.
    fn default() -> UpstreamPolicy {
        UpstreamPolicy::new(Vec::new(), Vec::new())
    }
}

/// Why a target was refused: the target as shown (no secrets) and the rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{target} is refused by the upstream policy: {reason}")]
pub struct UpstreamRefused {
    pub target: String,
    pub reason: String,
}

impl UpstreamPolicy {
    /// The default deny of `link-local`, then `deny`, with `allow` taking precedence over all.
    pub fn new(deny: Vec<NetRule>, allow: Vec<NetRule>) -> UpstreamPolicy {
        let mut all_denied = vec![NetRule::LinkLocal];
        all_denied.extend(deny.into_iter().filter(|rule| *rule != NetRule::LinkLocal));
        UpstreamPolicy {
            deny: all_denied,
            allow,
        }
    }

    /// The deny rule refusing `address`, if one does and no allow rule lets it through.
    pub fn refusing_rule(&self, address: IpAddr) -> Option<&NetRule> {
        if self.allow.iter().any(|rule| rule.contains(address)) {
            return None;
        }
        self.deny.iter().find(|rule| rule.contains(address))
    }

    fn refusal(&self, target: &str, address: IpAddr) -> Option<UpstreamRefused> {
        self.refusing_rule(address).map(|rule| UpstreamRefused {
            target: target.to_owned(),
            reason: format!("{} is in the denied network {rule}", canonical(address)),
        })
    }

    /// Checks what can be checked before resolution: the scheme, and the address when the
    /// host is one. `shown` is the URL as it may be shown (secrets redacted).
    pub fn check_url(&self, url: &Url, shown: &str) -> Result<(), UpstreamRefused> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(UpstreamRefused {
                target: shown.to_owned(),
                reason: format!("only http and https are allowed, not {}", url.scheme()),
            });
        }
        let address = match url.host() {
            Some(url::Host::Ipv4(v4)) => IpAddr::V4(v4),
            Some(url::Host::Ipv6(v6)) => IpAddr::V6(v6),
            Some(url::Host::Domain(_)) => return Ok(()),
            None => {
                return Err(UpstreamRefused {
                    target: shown.to_owned(),
                    reason: "the URL has no host".to_owned(),
                });
            }
        };
        match self.refusal(shown, address) {
            Some(refused) => Err(refused),
            None => Ok(()),
        }
    }

    /// The resolver that enforces the policy on every name the client resolves.
    pub(crate) fn resolver(self: &Arc<Self>) -> PolicyResolver {
        PolicyResolver {
            policy: self.clone(),
        }
    }

    /// Follows a redirect only within the origin of the request, at most [`MAX_REDIRECTS`]
    /// times, to a target the policy allows.
    pub(crate) fn redirect_policy(self: &Arc<Self>) -> reqwest::redirect::Policy {
        let policy = self.clone();
        reqwest::redirect::Policy::custom(move |attempt| {
            let target = attempt.url().clone();
            let origin = attempt.previous().first().map(Url::origin);
            let refused = |reason: String| UpstreamRefused {
                target: strip_query(&target),
                reason,
            };
            if attempt.previous().len() > MAX_REDIRECTS {
                return attempt.error(refused(format!("more than {MAX_REDIRECTS} redirects")));
            }
            if origin.is_some_and(|origin| origin != target.origin()) {
                return attempt.error(refused(
                    "a redirect leaves the origin of the request; flowd follows redirects within it only"
                        .to_owned(),
                ));
            }
            match policy.check_url(&target, &strip_query(&target)) {
                Ok(()) => attempt.follow(),
                Err(refusal) => attempt.error(refusal),
            }
        })
    }
}

/// A redirect target as shown: without its query, which may carry a token.
fn strip_query(url: &Url) -> String {
    let mut shown = url.clone();
    shown.set_query(None);
    shown.to_string()
}

/// The policy's DNS resolver: the system's answers, denied addresses removed.
pub(crate) struct PolicyResolver {
    policy: Arc<UpstreamPolicy>,
}

impl Resolve for PolicyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let resolved: Vec<SocketAddr> = match tokio::net::lookup_host((host.as_str(), 0)).await
            {
                Ok(addresses) => addresses.collect(),
                Err(error) => {
                    return Err(Box::new(crate::cause::DnsLookupFailed::new(&host, &error)) as _);
                }
            };
            let mut first_refusal = None;
            let allowed: Vec<SocketAddr> = resolved
                .into_iter()
                .filter(|address| match policy.refusal(&host, address.ip()) {
                    Some(refusal) => {
                        first_refusal.get_or_insert(refusal);
                        false
                    }
                    None => true,
                })
                .collect();
            match first_refusal {
                Some(refusal) if allowed.is_empty() => Err(Box::new(refusal) as _),
                _ => Ok(Box::new(allowed.into_iter()) as Addrs),
            }
        })
    }
}

/// The policy refusal somewhere in `error`'s chain of sources, if it is one.
pub fn refusal_in(error: &(dyn std::error::Error + 'static)) -> Option<UpstreamRefused> {
    let mut current = Some(error);
    while let Some(error) = current {
        if let Some(refused) = error.downcast_ref::<UpstreamRefused>() {
            return Some(refused.clone());
        }
        current = error.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn named_networks_hold_every_spelling_of_their_addresses() {
        for loopback in [
            "127.0.0.1",
            "127.0.0.2",
            "::1",
            "::ffff:127.0.0.1",
            "0.0.0.0",
            "::",
        ] {
            assert!(NetRule::Loopback.contains(address(loopback)), "{loopback}");
        }
        for private in [
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "100.64.0.1",
            "fd00::1",
            "::ffff:10.0.0.1",
        ] {
            assert!(NetRule::Private.contains(address(private)), "{private}");
        }
        for link_local in ["169.254.169.254", "fe80::1", "::ffff:169.254.169.254"] {
            assert!(
                NetRule::LinkLocal.contains(address(link_local)),
                "{link_local}"
            );
        }
        for public in ["93.184.216.34", "2606:4700::1111", "172.32.0.1"] {
            let public = address(public);
            assert!(!NetRule::Loopback.contains(public) && !NetRule::Private.contains(public));
            assert!(!NetRule::LinkLocal.contains(public));
        }
    }

    #[test]
    fn the_default_denies_link_local_and_allow_rules_win() {
        let default = UpstreamPolicy::default();
        assert_eq!(
            default.refusing_rule(address("169.254.169.254")),
            Some(&NetRule::LinkLocal)
        );
        assert_eq!(default.refusing_rule(address("127.0.0.1")), None);
        let shared = UpstreamPolicy::new(
            vec!["private".parse().unwrap(), "loopback".parse().unwrap()],
            vec!["10.20.0.0/16".parse().unwrap()],
        );
        assert_eq!(
            shared.refusing_rule(address("10.1.0.1")),
            Some(&NetRule::Private)
        );
        assert_eq!(shared.refusing_rule(address("10.20.3.4")), None, "allowed");
        assert_eq!(
            shared.refusing_rule(address("::ffff:127.0.0.1")),
            Some(&NetRule::Loopback)
        );
        assert!("nowhere".parse::<NetRule>().is_err());
    }

    #[test]
    fn numeric_spellings_of_a_host_are_read_as_the_address() {
        let policy = UpstreamPolicy::new(vec![NetRule::Loopback], Vec::new());
        for spelling in [
            "http://127.0.0.1/",
            "http://127.1/",
            "http://0x7f000001/",
            "http://2130706433/",
            "http://0177.0.0.1/",
            "http://[::ffff:127.0.0.1]/",
            "http://[::1]/",
            "http://0.0.0.0/",
            "http://169.254.169.254/latest/meta-data/",
        ] {
            let url = Url::parse(spelling).unwrap();
            assert!(
                policy.check_url(&url, spelling).is_err(),
                "{spelling} -> {url}"
            );
        }
        let url = Url::parse("ftp://example.com/").unwrap();
        assert!(
            policy
                .check_url(&url, "ftp")
                .unwrap_err()
                .reason
                .contains("only http")
        );
    }
}
