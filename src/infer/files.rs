//! Service addresses in configuration files (the ConfigMap and Secret keys a container mounts):
//! YAML (`host: x`, `endpoint: x:port`, `join_members: [x]`, list items), JSON, `.ini`/TOML/
//! properties (`key = value`), nginx and similar directive files (`proxy_pass http://x:port;`,
//! `server x:port;`).
//!
//! The scan is token-based, line by line, and linear in the file's size (at most
//! [`MAX_FILE_BYTES`] of a file are read; no backtracking patterns). Each value goes through
//! [`host_ports_in`], with its rules: a name with a dot or a port counts wherever it stands (the
//! caller keeps it only when it names a Service of the render); a bare one-label name only where a
//! host is expected, which in a file means the whole value of a key that names an address
//! ([`is_address_key`]: `host`, `url`, `join_members`, `proxy_pass`, `server`, …) or after `://`,
//! `user@`, `=`, or in a comma list, as in env values.

use super::address::{host_ports_in, HostPort};
use serde_json::Value;
use std::collections::HashMap;

/// How much of one file is read: the API server's limit on a whole ConfigMap or Secret. Bytes
/// beyond it (possible only in a render no cluster accepts) are not scanned.
pub const MAX_FILE_BYTES: usize = 1 << 20;

/// Every `host[:port]` the configuration file `text` names where an address can stand, in order
/// of appearance, each once, with whether it is listed as a cluster member to join (under a key
/// of [`is_members_key`]).
pub fn addresses(text: &str) -> Vec<(HostPort, bool)> {
    let text = prefix(text, MAX_FILE_BYTES);
    let mut found = Found::default();
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        // serde_json is linear and refuses nesting deeper than 128 (an error, not a crash).
        if let Ok(value) = serde_json::from_str::<Value>(text) {
            json(&value, "", &mut found);
            return found.out;
        }
    }
    lines(text, &mut found);
    found.out
}

/// Whether a key names an address: one of its words (split at `_`, `-`, `.`, `/`, spaces and
/// camelCase humps) is `host`, `url`, `address`, `endpoint`, `server`, `members`, `peers`,
/// `brokers`, `proxy`/`pass` (nginx `proxy_pass`, `grpc_pass`), `dsn`, `seeds`, `join`,
/// `connect` (singular or plural). Not `backend`, `target`, `service`, `name` or nginx's
/// `upstream`: their values are mostly words (`backend: local`, `target: all`, an upstream's
/// name), so a Service of that name would be a false reference.
pub fn is_address_key(key: &str) -> bool {
    const WORDS: &[&str] = &[
        "host", "hostname", "addr", "address", "endpoint", "url", "uri", "server", "member", "peer", "broker", "proxy",
        "pass", "dsn", "seed", "join", "connect",
    ];
    words(key).any(|w| {
        let singular = w.strip_suffix("es").filter(|s| s.ends_with("ss")).or_else(|| w.strip_suffix('s')).unwrap_or(&w);
        WORDS.contains(&w.as_str()) || WORDS.contains(&singular)
    })
}

/// Whether a key lists the members of a cluster to join (memberlist's `join_members`,
/// `peers`, `seeds`, `cluster.members`): its addresses name the workload's own ring.
pub fn is_members_key(key: &str) -> bool {
    words(key).any(|w| matches!(w.as_str(), "join" | "member" | "members" | "peer" | "peers" | "seed" | "seeds"))
}

/// The lower-cased words of a key.
fn words(key: &str) -> impl Iterator<Item = String> + '_ {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut prev_lower = false;
    for c in key.chars() {
        if !c.is_ascii_alphanumeric() {
            out.push(std::mem::take(&mut word));
            prev_lower = false;
            continue;
        }
        if c.is_ascii_uppercase() && prev_lower {
            out.push(std::mem::take(&mut word));
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        word.push(c.to_ascii_lowercase());
    }
    out.push(word);
    out.into_iter().filter(|w| !w.is_empty())
}

/// The addresses found so far, each once.
#[derive(Default)]
struct Found {
    out: Vec<(HostPort, bool)>,
    /// Index into `out` of each address.
    seen: HashMap<HostPort, usize>,
}

impl Found {
    /// The addresses of one value under `key`.
    fn value(&mut self, key: &str, value: &str) {
        let value = value.trim();
        if value.is_empty() {
            return;
        }
        let address_key = is_address_key(key);
        let members = is_members_key(key);
        // A flow list (`[a, "b:1"]`): each item is a whole value.
        let items: Vec<&str> = match value.strip_prefix('[').and_then(|v| v.strip_suffix(']')) {
            Some(inner) => inner.split(',').collect(),
            None => vec![value],
        };
        for item in items {
            for hp in host_ports_in(unquote(item.trim()), address_key) {
                match self.seen.get(&hp) {
                    Some(&i) => self.out[i].1 |= members,
                    None => {
                        self.seen.insert(hp.clone(), self.out.len());
                        self.out.push((hp, members));
                    }
                }
            }
        }
    }
}

/// Walks a JSON document: every string with the key it sits under (an array's items under the
/// array's key).
fn json(value: &Value, key: &str, found: &mut Found) {
    match value {
        Value::String(s) => found.value(key, s),
        Value::Array(items) => items.iter().for_each(|v| json(v, key, found)),
        Value::Object(map) => map.iter().for_each(|(k, v)| json(v, k, found)),
        _ => {}
    }
}

/// The line scanner: `key: value` (YAML, properties), `"key": value` (JSON-like lines), `key =
/// value` (ini, TOML, HCL), `directive args;` (nginx), and lines without a key (list items,
/// block text), which belong to the nearest enclosing key by indentation.
fn lines(text: &str, found: &mut Found) {
    // Enclosing keys with their column; each line pushes at most one, so popping is linear.
    let mut parents: Vec<(usize, &str)> = Vec::new();
    for raw in text.lines() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with("//") || line.starts_with(';') {
            continue;
        }
        let column = raw.len() - raw.trim_start().len();
        let (item, body) = match line.strip_prefix('-') {
            Some(rest) if rest.is_empty() || rest.starts_with(' ') => (true, rest.trim_start()),
            _ => (false, line),
        };
        // A YAML list item may sit at its key's own column (`key:` then `- item`).
        while parents.last().is_some_and(|&(c, _)| c > column || (c == column && !item)) {
            parents.pop();
        }
        let parent = parents.last().map_or("", |&(_, k)| k);
        let body_column = raw.len() - body.len();
        match key_value(body) {
            Some((key, value)) => {
                let value = strip_comment(value);
                if matches!(value, "" | "|" | "|-" | "|+" | ">" | ">-" | ">+" | "{" | "[") {
                    parents.push((body_column, key));
                } else {
                    found.value(key, value);
                }
            }
            None => match directive(body) {
                Some((key, value)) => found.value(key, value),
                None => found.value(parent, strip_comment(body)),
            },
        }
    }
}

/// `key: value`, `"key": value`, `key = value`, `key=value` at the start of a line: the key (a
/// run of letters, digits, `_`, `-`, `.`, `/`, or a quoted string) and the rest.
fn key_value(body: &str) -> Option<(&str, &str)> {
    let (key, rest) = match body.chars().next()? {
        q @ ('"' | '\'') => {
            let end = body[1..].find(q)? + 1;
            (&body[1..end], body[end + 1..].trim_start())
        }
        _ => {
            let end = body
                .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/')))
                .unwrap_or(body.len());
            (&body[..end], body[end..].trim_start())
        }
    };
    if key.is_empty() {
        return None;
    }
    if let Some(value) = rest.strip_prefix(':') {
        // `host:port` is not a key: YAML's separator is followed by a space or the line's end.
        if value.is_empty() || value.starts_with([' ', '\t']) {
            return Some((key, value.trim_start()));
        }
        return None;
    }
    let value = rest.strip_prefix('=')?;
    Some((key, value.trim_start()))
}

/// `directive arguments;` (nginx, HAProxy, Redis/ini-like `name value` files): the first word
/// (letters, digits, `_`, `-`) and the rest, without the closing `;` or `{`.
fn directive(body: &str) -> Option<(&str, &str)> {
    let (word, rest) = body.split_once([' ', '\t'])?;
    if word.is_empty() || !word.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
        return None;
    }
    let rest = strip_comment(rest);
    Some((word, rest.trim_end_matches([';', '{']).trim_end()))
}

/// The text before a ` #` comment (YAML, ini, nginx).
fn strip_comment(value: &str) -> &str {
    let cut = value.find(" #").or_else(|| value.find("\t#")).unwrap_or(value.len());
    value[..cut].trim()
}

/// The text inside one pair of matching quotes, else the text.
fn unquote(value: &str) -> &str {
    for q in ['"', '\''] {
        if let Some(inner) = value.strip_prefix(q).and_then(|v| v.strip_suffix(q)) {
            return inner;
        }
    }
    value
}

/// At most `max` bytes of `text`, cut at a character boundary.
fn prefix(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(text: &str) -> Vec<String> {
        addresses(text)
            .into_iter()
            .map(|(h, _)| match h.port {
                Some(p) => format!("{}:{p}", h.host),
                None => h.host,
            })
            .collect()
    }

    #[test]
    fn yaml_keys_lists_and_flow_lists() {
        let yaml = "cache:\n  caches:\n  - memcached:\n      host: tempo-memcached\n      service: memcached-client\n      timeout: 500ms\n    roles:\n    - bloom\nbackend_worker:\n  backend_scheduler_addr: tempo-backend-scheduler:9095\nmemberlist:\n  join_members:\n  - dns+tempo-gossip-ring:7946\n  - gossip\n  cluster_label: 'tempo'\nquerier: {frontend_address: \"q-discovery:9095\"}\nother:\n  peers: [a, 'b']\n";
        assert_eq!(
            hosts(yaml),
            [
                "tempo-memcached",
                "tempo-backend-scheduler:9095",
                "tempo-gossip-ring:7946",
                "gossip",
                "q-discovery:9095",
                "a",
                "b"
            ]
        );
    }

    #[test]
    fn yaml_does_not_match_words_outside_address_keys() {
        // `service`, `roles`, `cluster_label`, `store`, block text: not addresses when bare.
        let yaml = "service: memcached-client\nroles:\n- bloom\ncluster_label: tempo\nkvstore:\n  store: memberlist\nbackend: local # a comment host\nnote: |\n  connects to the db\n";
        assert!(hosts(yaml).is_empty(), "{:?}", hosts(yaml));
        // A key's own name is never a value; `host:port` is not a key.
        assert_eq!(hosts("server:\n  http_listen_port: 3200\ndb:5432\n"), ["db:5432"]);
    }

    #[test]
    fn grafana_datasources_and_urls() {
        let yaml = "apiVersion: 1\ndatasources:\n- name: Prometheus\n  type: prometheus\n  url: http://prometheus-server.monitoring.svc:80\n  access: proxy\n  isDefault: true\n";
        assert_eq!(hosts(yaml), ["prometheus-server.monitoring.svc:80"]);
    }

    #[test]
    fn nginx_directives() {
        let conf = "upstream loki-read {\n  server loki-read:3100 max_fails=3;\n  server loki-backup;\n}\nserver {\n  listen 8080;\n  resolver kube-dns.kube-system.svc.cluster.local.;\n  location / {\n    proxy_pass       http://loki.logging.svc.cluster.local:3100$request_uri;\n    grpc_pass grpc://tempo-distributor:9095;\n    root /usr/share/nginx/html;\n    # proxy_pass http://commented:1;\n  }\n}\n";
        assert_eq!(
            hosts(conf),
            [
                "loki-read:3100",
                "loki-backup",
                "kube-dns.kube-system.svc.cluster.local",
                "loki.logging.svc.cluster.local:3100",
                "tempo-distributor:9095",
            ]
        );
        // Prose and paths: not hosts.
        assert!(hosts("welcome to the server\nroot /var/www/server;\n").is_empty());
    }

    #[test]
    fn ini_toml_and_properties() {
        let ini = "[database]\ntype = mysql\nhost = mysql:3306\nname = grafana\n[server]\ndomain = grafana\n[remote_cache]\nconnstr = addr=redis-master:6379,pool_size=100\nbootstrap.servers=kafka\nzookeeper.connect: zk-0.zk-hl:2181,zk-1.zk-hl:2181\n";
        // `pool` stands in a comma list (env values' rule): it counts only if a Service is
        // named so.
        assert_eq!(
            hosts(ini),
            ["mysql:3306", "redis-master:6379", "pool", "kafka", "zk-0.zk-hl:2181", "zk-1.zk-hl:2181"]
        );
    }

    #[test]
    fn json_documents() {
        let json = r#"{"url": "http://api.shop.svc:8080", "hosts": ["es-master", "es-data:9200"], "name": "es-master2", "n": 3}"#;
        let mut got = hosts(json);
        got.sort();
        assert_eq!(got, ["api.shop.svc:8080", "es-data:9200", "es-master"]);
        // Not JSON after all: read line by line.
        assert_eq!(hosts("{broken\nhost: db\n"), ["db"]);
    }

    #[test]
    fn members_are_marked() {
        let got =
            addresses("memberlist:\n  join_members:\n  - ring\n  - ring2:7946\nhost: ring2:7946\nurl: http://api:80\n");
        let marked: Vec<(&str, bool)> = got.iter().map(|(h, m)| (h.host.as_str(), *m)).collect();
        assert_eq!(marked, [("ring", true), ("ring2", true), ("api", false)]);
        assert!(is_members_key("join_members") && is_members_key("cluster.peers") && !is_members_key("host"));
    }

    #[test]
    fn address_keys() {
        for k in [
            "host",
            "DB_HOST",
            "jdbcUrl",
            "join_members",
            "proxy_pass",
            "bootstrap.servers",
            "addresses",
            "frontend_address",
            "kafka-brokers",
        ] {
            assert!(is_address_key(k), "{k}");
        }
        for k in ["service", "name", "cluster_label", "password", "security", "roles", "backend", "target", "upstream"]
        {
            assert!(!is_address_key(k), "{k}");
        }
    }

    #[test]
    fn any_bytes_bounded() {
        // Long lines, deep nesting, unbalanced quotes and brackets: no panic, linear work.
        let deep = "[".repeat(100_000);
        assert!(hosts(&deep).is_empty());
        let long = format!("host: {}", "a-".repeat(600_000));
        assert!(hosts(&long).is_empty());
        for s in ["\"", "'", "- ", "-", ":", "=", "a:", "\"a\":", "[a", "é: ü", "\u{feff}host: x"] {
            let _ = hosts(s);
        }
        let big = "x: y\n".repeat(300_000);
        assert!(hosts(&big).is_empty());
        assert_eq!(prefix("aé", 2), "a");
    }
}
