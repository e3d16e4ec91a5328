//! Address ranges that are not "the internet": private, link-local and cloud metadata ranges.
//!
//! One list for everything netfence does with them: the default `except` of generated internet
//! egress (`externalEgress`) and what lint NF003 expects an egress to `0.0.0.0/0` or `::/0` to
//! except. It is the union of what those places used before (RFC 1918 and the whole IPv4
//! link-local range rather than only `169.254.169.254/32`, because AWS also serves its DNS
//! resolver (169.254.169.253), NTP (169.254.169.123) and ECS credentials (169.254.170.2) there;
//! IPv6 unique-local, which holds AWS's IPv6 metadata address `fd00:ec2::254`, and link-local).

/// IPv4: RFC 1918 private ranges and link-local (cloud metadata and node-local services).
pub const PRIVATE_V4: [&str; 4] = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16"];

/// IPv6: unique-local (RFC 4193) and link-local.
pub const PRIVATE_V6: [&str; 2] = ["fc00::/7", "fe80::/10"];

/// The cloud metadata endpoints (inside [`PRIVATE_V4`] and [`PRIVATE_V6`]).
pub const METADATA: [&str; 2] = ["169.254.169.254/32", "fd00:ec2::254/128"];

/// The whole IPv4 space, as an egress `ipBlock.cidr`.
pub const ANY_V4: &str = "0.0.0.0/0";

/// The whole IPv6 space.
pub const ANY_V6: &str = "::/0";

#[cfg(test)]
mod tests {
    use super::*;
    use ipnet::IpNet;

    #[test]
    fn ranges_parse_and_metadata_is_inside_them() {
        let private: Vec<IpNet> = PRIVATE_V4.iter().chain(&PRIVATE_V6).map(|c| c.parse().unwrap()).collect();
        for m in METADATA {
            let m: IpNet = m.parse().unwrap();
            assert!(private.iter().any(|p| p.contains(&m)), "{m} outside the private ranges");
        }
    }
}
