#!/usr/bin/env bash
# mtasts_zone.sh ZONE: the MTA-STS and TLS-RPT records of the DNS lab (dns.sh includes them in its zone).
# Each sts-* domain has MX hosts in the Postfix lab's mx_pool (mx1 127.0.0.2, mx2 127.0.0.3), an _mta-sts
# TXT record, mta-sts.<domain> on 127.0.9.1 where Tests/Lab/mtasts_server.py serves its policy on port 443,
# and an _smtp._tls record; the rpt-* domains vary the TLS-RPT record. See Tests/Lab/README.md.
set -euo pipefail
zone=$1
# The DNS lab gives an address whose port 443 was free (DNSLab.freePolicyAddress); the bench takes the default.
policy_address=${MXCHECK_POLICY_ADDRESS:-127.0.9.1}
# Nothing listens here: a policy host that refuses connections.
dead_address=127.0.9.2

sites="sts-enforce sts-testing sts-none sts-uncovered sts-wild2 sts-wild1 sts-redirect sts-404 sts-big
sts-wrongname sts-partial sts-unknownca sts-expired sts-cnonly sts-maxage sts-short sts-nomx sts-html
sts-dupkeys sts-drip sts-silent sts-nocolon sts-chunked sts-signedchunk sts-garbage sts-bench sts-refused sts-tworecords sts-badid
sts-certname"

echo "; MTA-STS and TLS-RPT (Tests/Lab/mtasts_zone.sh)"
for site in $sites; do
    if [[ $site == sts-certname ]]; then
        # An MX host the pool's certificate (*.$zone) does not name: cert.hostname_mismatch under enforce.
        echo "$site MX 10 mx.$site.$zone."
        echo "mx.$site A 127.0.0.2"
    else
        echo "$site MX 10 mx1.$zone."
    fi
    case $site in
        sts-enforce | sts-uncovered | sts-bench) echo "$site MX 20 mx2.$zone." ;;
    esac
    case $site in
        sts-tworecords)
            echo "_mta-sts.$site TXT \"v=STSv1; id=1\""
            echo "_mta-sts.$site TXT \"v=STSv1; id=2\""
            ;;
        sts-badid) echo "_mta-sts.$site TXT \"v=STSv1; id=2026-01-01\"" ;;
        # The record in two strings, joined without a space, beside an unrelated TXT record.
        sts-enforce)
            echo "_mta-sts.$site TXT \"v=STSv1; \" \"id=20260101T000000\""
            echo "_mta-sts.$site TXT \"google-site-verification=abc\""
            ;;
        *) echo "_mta-sts.$site TXT \"v=STSv1; id=20260101\"" ;;
    esac
    if [[ $site == sts-refused ]]; then
        echo "mta-sts.$site A $dead_address"
    else
        echo "mta-sts.$site A $policy_address"
    fi
    # sts-testing publishes no TLS-RPT record: tlsrpt.absent is a warning beside MTA-STS.
    [[ $site == sts-testing ]] || echo "_smtp._tls.$site TXT \"v=TLSRPTv1; rua=mailto:tls@$site.$zone\""
done
echo "rpt-norua MX 10 mx1.$zone."
echo "_smtp._tls.rpt-norua TXT \"v=TLSRPTv1;\""
echo "rpt-http MX 10 mx1.$zone."
echo "_smtp._tls.rpt-http TXT \"v=TLSRPTv1; rua=http://reports.$zone/tls\""
echo "rpt-double MX 10 mx1.$zone."
echo "_smtp._tls.rpt-double TXT \"v=TLSRPTv1; rua=mailto:a@$zone\""
echo "_smtp._tls.rpt-double TXT \"v=TLSRPTv1; rua=mailto:b@$zone\""
echo "rpt-two-uris MX 10 mx1.$zone."
echo "_smtp._tls.rpt-two-uris TXT \"v=TLSRPTv1; rua=mailto:tls@$zone,https://reports.$zone/v1/\""
