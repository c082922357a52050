/** Per-command help with examples. */

/** `tollgate <command> --help`. */
export const COMMAND_HELP: Readonly<Record<string, string>> = {
  dev: `tollgate dev [--port N] [--cache-ttl SECONDS]
Runs the local gateway on 127.0.0.1 (npm start runs this): DynamoDB Local on .tollgate/ (or TOLLGATE_HOME),
the real handlers, the audit stream poller. Ctrl-C stops everything; data stays.
Examples:
  tollgate dev
  PORT=9000 tollgate dev --cache-ttl 0`,
  keys: `tollgate keys create --name N [--models a/b,c/*] [--team ID] [--monthly-limit USD] [--rpm N] [--tpm N] [--expires DATE]
tollgate keys list [--team ID] | show ID | disable ID | enable ID | delete ID
tollgate keys rotate ID [--grace DURATION]
tollgate keys import FILE [--team ID] [--models …] [--monthly-limit USD] [--rpm N] [--tpm N]
Examples:
  tollgate keys create --name ci --models 'openai/*' --monthly-limit 50 --rpm 60
  tollgate keys rotate AbC123xyZ789 --grace 1h
  tollgate keys import legacy.txt        # lines: label:sha256hex`,
  teams: `tollgate teams create --name N [--budget USD] | list | show ID | disable ID | enable ID | delete ID
Examples:
  tollgate teams create --name platform --budget 500
  tollgate keys create --name svc --team team_AbC123xyZ789`,
  providers: `tollgate providers add NAME --type openai|openai-compatible|anthropic|gemini --base-url URL [--models m1,m2]
                       (--key-stdin | --key-env VAR | --secret-arn ARN) [--priority N] [--expires DATE]
tollgate providers list | remove NAME
tollgate providers credentials add NAME (--key-stdin | --key-env VAR | --secret-arn ARN) [--priority N] [--expires DATE]
tollgate providers credentials list NAME | remove NAME CREDENTIAL_ID
Examples:
  tollgate providers add openai --type openai --base-url https://api.openai.com/v1 --models gpt-4o --key-env OPENAI_API_KEY
  pbpaste | tollgate providers credentials add openai --key-stdin --priority 1`,
  aliases: `tollgate aliases set NAME --targets p/m[,p/m…] | list | remove NAME
Example:
  tollgate aliases set fast --targets groq/llama-3.3-70b,openai/gpt-4o-mini`,
  models: `tollgate models price PROVIDER/MODEL --input USD_PER_MTOK --output USD_PER_MTOK
Example:
  tollgate models price openai/gpt-4o --input 2.5 --output 10`,
  usage: `tollgate usage [--key ID] [--team ID] [--request ID]
Examples:
  tollgate usage --team team_AbC123xyZ789
  tollgate usage --request 6f1c…   # the x-request-id of a response`,
  status: `tollgate status [--check]
Credential health per provider. Exit 0 ok, 1 a provider has no working credential, 2 a credential expires
within 7 days. --check probes each credential with a free authenticated request.
Example:
  tollgate status --check || alert-oncall`,
  audit: `tollgate audit list [--since DATE] [--actor A] [--target ID] [--action X] | verify
verify walks the hash chain and the signed digests: exit 0 intact, 1 broken (naming the record).
Examples:
  tollgate audit list --action key. --since 2026-11-01
  tollgate audit verify`,
  setup: `tollgate setup claude-code|codex|opencode --key KEY [--os macos|linux|windows] [--url URL]
               [--model SLUG | --haiku SLUG --sonnet SLUG --opus SLUG]
Prints one command that writes the tool's configuration; the key goes only into owner-only files.
Examples:
  tollgate setup claude-code --key sk-tg-… | sh
  tollgate setup codex --key sk-tg-… --model openai/gpt-4o`,
};
