"""boto3's AdminListGroupsForUser paginator, driven one request per line.

Reads JSON lines from stdin, one case each:
  {"endpoint": URL, "region": R, "pool": ID, "user": NAME,
   "page_size": N|null, "max_items": N|null, "starting_token": T|null}
and writes one JSON line per case:
  {"Groups": [...], "NextToken": T}       (NextToken only when boto3 set one)
  {"error": CODE}                          when the service refused the call
Groups are printed as the AWS CLI prints them: absent members left out,
timestamps as ISO 8601 in UTC (Python's isoformat).

Run with the Debian python3 (/usr/bin/python3) that has python3-boto3.
"""
import datetime
import json
import sys

import boto3
import botocore.config
import botocore.exceptions

_clients = {}


def client(endpoint, region):
    key = (endpoint, region)
    if key not in _clients:
        _clients[key] = boto3.session.Session().client(
            "cognito-idp",
            endpoint_url=endpoint,
            region_name=region,
            aws_access_key_id="AKIDBOTOPEER",
            aws_secret_access_key="boto-peer-secret",
            config=botocore.config.Config(retries={"max_attempts": 1}),
        )
    return _clients[key]


def cli_value(v):
    if isinstance(v, datetime.datetime):
        return v.astimezone(datetime.timezone.utc).isoformat()
    return v


def run(case):
    cfg = {}
    if case.get("page_size") is not None:
        cfg["PageSize"] = case["page_size"]
    if case.get("max_items") is not None:
        cfg["MaxItems"] = case["max_items"]
    if case.get("starting_token"):
        cfg["StartingToken"] = case["starting_token"]
    paginator = client(case["endpoint"], case["region"]).get_paginator("admin_list_groups_for_user")
    try:
        full = paginator.paginate(
            UserPoolId=case["pool"], Username=case["user"], PaginationConfig=cfg
        ).build_full_result()
    except botocore.exceptions.ClientError as e:
        return {"error": e.response["Error"]["Code"]}
    out = {"Groups": [{k: cli_value(v) for k, v in g.items()} for g in full.get("Groups", [])]}
    if "NextToken" in full:
        out["NextToken"] = full["NextToken"]
    return out


def main():
    for line in sys.stdin:
        if line.strip():
            print(json.dumps(run(json.loads(line))), flush=True)


if __name__ == "__main__":
    main()
