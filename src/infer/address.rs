//! Finding Service addresses in text: `svc`, `svc.ns`, `svc.ns.svc`, `svc.ns.svc.<domain>`,
//! StatefulSet pod names (`pod-0.headless.ns.svc…`), each with an optional port, inside URLs
//! (scheme, userinfo, path, query), comma-separated host lists and JDBC/redis/mongodb/amqp/
//! kafka connection strings with several hosts.

/// A host (lower-cased) and the port written after it, if any.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HostPort {
    /// The host name, lower-cased, without a trailing dot.
    pub host: String,
    /// The port, when written (`host:port`).
    pub port: Option<i32>,
    /// The Service port's name, when the host is a DNS SRV name (`_name._tcp.host`).
    pub port_name: Option<String>,
    /// Written after `scheme://`: a URL, an address to connect to.
    pub url: bool,
}

/// Every `host[:port]` token of `text` that may name a host. Tokens are the longest runs of the characters a host
/// name and port may hold (letters, digits, `.`, `-`, `:`): URL punctuation (`/`, `@`, `?`,
/// `,`, `;`, `=`, quotes, spaces) separates them, so every host of a list or URL is one token.
/// Tokens that are not a DNS name with an optional numeric port (`jdbc:postgresql:`,
/// `user:password`) are skipped.
pub fn host_ports(text: &str) -> Vec<HostPort> {
    host_ports_in(text, true)
}

/// [`host_ports`], where `whole_is_host` says whether a bare one-label name that is the whole
/// of `text` counts as a host (an env value, an argument: yes; a config file's value under a
/// key that does not name an address: no). Linear in `text`'s length.
pub fn host_ports_in(text: &str, whole_is_host: bool) -> Vec<HostPort> {
    let mut out: Vec<HostPort> = Vec::new();
    // Distinct tokens can be many in a large file: a set keeps the deduplication linear.
    let mut seen: std::collections::HashSet<HostPort> = std::collections::HashSet::new();
    let is_token = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':');
    let whole = text.trim();
    let mut at = 0;
    while let Some(found) = text[at..].find(is_token) {
        let start = at + found;
        let len = text[start..].find(|c: char| !is_token(c)).unwrap_or(text.len() - start);
        let before = &text[..start];
        let token = text[start..start + len].trim_end_matches(':');
        let after = &text[start + len..];
        at = start + len;
        // A bare name (one label, no port) is a host only where a host is expected: the whole
        // value, after `scheme://`, `user@` or `--flag=`, or in a comma-separated list.
        // Elsewhere (`/opt/kafka/run.sh`, prose) it is just a word.
        let bare_ok = (whole_is_host && token == whole)
            || before.ends_with("://")
            || before.ends_with('@')
            || (before.ends_with('=') && !after.starts_with('/'))
            || before.ends_with(',')
            || after.starts_with(',');
        let (host, port) = match token.rsplit_once(':') {
            Some((host, port)) => match port.parse::<i32>() {
                Ok(p) if (1..=65535).contains(&p) => (host, Some(p)),
                _ => continue,
            },
            None => (token, None),
        };
        let host = host.strip_suffix('.').unwrap_or(host);
        // A DNS SRV name, `_<port name>._<protocol>.<service>…` (Loki's and Mimir's
        // `dnssrvnoa+_memcached-client._tcp.loki-chunks-cache.ns.svc`): the Service and its port.
        let srv = before
            .strip_suffix("._")
            .and_then(|b| b.rsplit_once('_'))
            .map(|(_, name)| name)
            .filter(|name| is_dns_name(name) && !name.contains('.'))
            .and_then(|name| ["tcp.", "udp.", "sctp."].iter().find_map(|p| host.strip_prefix(p)).map(|h| (name, h)));
        let (host, port_name) = match srv {
            Some((name, service)) => (service, Some(name.to_ascii_lowercase())),
            None => (host, None),
        };
        if !is_dns_name(host) || (port.is_none() && port_name.is_none() && !host.contains('.') && !bare_ok) {
            continue;
        }
        let url = before.ends_with("://") || (before.ends_with('@') && before.contains("://"));
        let hp = HostPort { host: host.to_ascii_lowercase(), port, port_name, url };
        if seen.insert(hp.clone()) {
            out.push(hp);
        }
    }
    out
}

/// Whether `host` is a DNS name: labels of letters, digits and `-`, not starting or ending with
/// `-`, at most 63 characters, and not all digits (an IP address or a number).
fn is_dns_name(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        })
        && !host.bytes().all(|b| b.is_ascii_digit() || b == b'.')
}

/// What a host name can name in the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceName<'a> {
    /// The Service's name.
    pub service: &'a str,
    /// Its namespace, when the name says (else the referring pod's namespace).
    pub namespace: Option<&'a str>,
    /// The pod name before the Service's name (`pod-0.headless…`), if any.
    pub pod: Option<&'a str>,
}

/// The readings of `host` as a Service address, most specific first: `svc`, `svc.ns`,
/// `svc.ns.svc`, `svc.ns.svc.<domain>`, and the same with a pod name in front. A name of two
/// or three labels without `.svc` has two readings (`svc.ns` and `pod.svc`, `pod.svc.ns`); the
/// caller keeps the first that names a Service of the render.
pub fn service_names<'a>(host: &'a str, domain: &str) -> Vec<ServiceName<'a>> {
    let domain = domain.trim_end_matches('.');
    let host = host.strip_suffix(domain).and_then(|h| h.strip_suffix('.')).unwrap_or(host);
    let (rest, qualified) = match host.strip_suffix(".svc") {
        Some(rest) => (rest, true),
        None => (host, false),
    };
    if host.ends_with(&format!(".{domain}")) || host == domain {
        return vec![];
    }
    let labels: Vec<&str> = rest.split('.').collect();
    let name = |service, namespace, pod| ServiceName { service, namespace, pod };
    match (labels.as_slice(), qualified) {
        ([svc, ns], true) => vec![name(svc, Some(*ns), None)],
        ([pod, svc, ns], true) => vec![name(svc, Some(*ns), Some(*pod))],
        ([svc], false) => vec![name(svc, None, None)],
        ([a, b], false) => vec![name(a, Some(*b), None), name(b, None, Some(*a))],
        ([pod, svc, ns], false) => vec![name(svc, Some(*ns), Some(*pod))],
        _ => vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(text: &str) -> Vec<(String, Option<i32>)> {
        host_ports(text).into_iter().map(|h| (h.host, h.port)).collect()
    }

    fn hp(host: &str, port: Option<i32>) -> (String, Option<i32>) {
        (host.to_string(), port)
    }

    #[test]
    fn every_address_form() {
        assert_eq!(hosts("db"), [hp("db", None)]);
        assert_eq!(hosts("db:5432"), [hp("db", Some(5432))]);
        assert_eq!(
            hosts("postgres://user:secret@db.shop.svc.cluster.local:5432/app?sslmode=disable")[0..1],
            [hp("db.shop.svc.cluster.local", Some(5432))]
        );
        assert_eq!(hosts("http://API.shop.svc:8080/v1"), [hp("api.shop.svc", Some(8080))]);
        assert_eq!(
            hosts("jdbc:postgresql://pg-0.pg-hl:5432,pg-1.pg-hl:5432/app"),
            [hp("pg-0.pg-hl", Some(5432)), hp("pg-1.pg-hl", Some(5432))]
        );
        assert_eq!(hosts("redis://:pw@redis-master:6379/0"), [hp("redis-master", Some(6379))]);
        assert_eq!(hosts("redis://redis-master/0"), [hp("redis-master", None)]);
        assert_eq!(hosts("/opt/bitnami/scripts/kafka/run.sh kafka"), [hp("run.sh", None)]);
        assert_eq!(hosts(" kafka "), [hp("kafka", None)]);
        assert_eq!(hosts("--servers=zk --x=/a/zk"), [hp("zk", None)]);
        assert_eq!(hosts("a,b"), [hp("a", None), hp("b", None)]);
        assert_eq!(
            hosts(
                "mongodb://u:p@m-0.m-hl.db.svc.cluster.local:27017,m-1.m-hl.db.svc.cluster.local:27017/?replicaSet=rs0"
            ),
            [
                hp("m-0.m-hl.db.svc.cluster.local", Some(27017)),
                hp("m-1.m-hl.db.svc.cluster.local", Some(27017)),
                hp("rs0", None)
            ]
        );
        assert_eq!(hosts("amqp://guest:guest@rabbitmq:5672/"), [hp("rabbitmq", Some(5672))]);
        assert_eq!(
            hosts("kafka-0.kafka-hl:9092, kafka-1.kafka-hl:9092"),
            [hp("kafka-0.kafka-hl", Some(9092)), hp("kafka-1.kafka-hl", Some(9092))]
        );
        assert_eq!(hosts("--host=db.shop. 10.0.0.1:80 -x:y"), [hp("db.shop", None)]);
        // DNS SRV names: the Service and its port's name.
        let srv = host_ports("dnssrvnoa+_memcached-client._tcp.cache.logging.svc.cluster.local");
        assert_eq!(
            srv,
            [HostPort {
                host: "cache.logging.svc.cluster.local".into(),
                port: None,
                port_name: Some("memcached-client".into()),
                url: false,
            }]
        );
        assert!(hosts("_x._tcp").is_empty());
        assert_eq!(hosts("a_b._tcp.c"), [hp("c", None)]);
    }

    #[test]
    fn service_readings() {
        let d = "cluster.local";
        let n = |service, namespace, pod| ServiceName { service, namespace, pod };
        assert_eq!(service_names("db", d), [n("db", None, None)]);
        assert_eq!(service_names("db.shop", d), [n("db", Some("shop"), None), n("shop", None, Some("db"))]);
        assert_eq!(service_names("db.shop.svc", d), [n("db", Some("shop"), None)]);
        assert_eq!(service_names("db.shop.svc.cluster.local", d), [n("db", Some("shop"), None)]);
        assert_eq!(service_names("pg-0.pg-hl.shop.svc.cluster.local", d), [n("pg-hl", Some("shop"), Some("pg-0"))]);
        assert_eq!(service_names("pg-0.pg-hl.shop", d), [n("pg-hl", Some("shop"), Some("pg-0"))]);
        assert!(service_names("example.com.au.x", d).is_empty());
        assert!(service_names("db.shop.svc.other.domain", d).is_empty());
        assert_eq!(service_names("db.shop.svc.corp.example", "corp.example"), [n("db", Some("shop"), None)]);
    }
}
