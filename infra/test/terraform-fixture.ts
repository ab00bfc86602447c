import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { parse } from '@cdktf/hcl2json';
import { evaluateTemplate, type EvalContext } from './terraform-expr.ts';
import { blocks, loadTerraform, mustGet, type Body, type TerraformModel } from './terraform-model.ts';

/** The infra/ configuration and its example tfvars, parsed once per test file, and helpers over them. */
export const INFRA = fileURLToPath(new URL('..', import.meta.url));
export const ROOT = join(INFRA, '..');
export const tf: TerraformModel = await loadTerraform(INFRA);
export const example = (await parse('terraform.tfvars.example', await readFile(join(INFRA, 'terraform.tfvars.example'), 'utf8'))) as Body;

export const str = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));
export const ref = (expr: string) => '${' + expr + '}';

/** Statements of a policy document, static and dynamic (their `content`). */
export function statements(doc: Body): Body[] {
  const dynamic = blocks(doc, 'dynamic').flatMap((d) => blocks(d, 'statement').flatMap((s) => blocks(s, 'content')));
  return [...blocks(doc, 'statement'), ...dynamic];
}
export const actionsOf = (doc: Body): string[] => statements(doc).flatMap((s) => s.actions as string[]);

/** The policy document a policy resource attaches: it must be a data source's JSON (`[0]` of a counted one). */
export function attachedDocument(policyAddress: string): Body {
  const policy = str(mustGet(tf.resources, policyAddress).policy);
  const m = /^\$\{data\.aws_iam_policy_document\.([\w-]+)(?:\[0\])?\.json\}$/.exec(policy);
  if (!m?.[1]) throw new Error(`${policyAddress}: policy is not a data.aws_iam_policy_document (${policy})`);
  return mustGet(tf.data, `aws_iam_policy_document.${m[1]}`);
}

/** What AWS would report for the resource attributes the evaluated values need. */
const SAMPLE_ATTRIBUTES: Record<string, string> = {
  'aws_sqs_queue.jobs.url': 'https://sqs.us-east-1.amazonaws.com/123456789012/switchboard-jobs',
  'aws_ecr_repository.worker.repository_url': '123456789012.dkr.ecr.us-east-1.amazonaws.com/switchboard/media-worker',
  'aws_s3_bucket.recordings[0].bucket': 'switchboard-recordings-123456789012-us-east-1',
};

/** Concrete values for variables: the example tfvars over the declared defaults. */
export function context(overrides: Record<string, unknown> = {}): EvalContext {
  const ctx: EvalContext = {
    variable(name) {
      if (name in overrides) return overrides[name];
      if (name in example) return example[name];
      const v = tf.variables.get(name);
      if (!v || !('default' in v)) throw new Error(`var.${name} has no value in the example`);
      return v.default;
    },
    local(name) {
      if (!tf.locals.has(name)) throw new Error(`local.${name} is not declared`);
      return evaluateTemplate(str(tf.locals.get(name)), ctx);
    },
    attribute(address, attr) {
      const sample = SAMPLE_ATTRIBUTES[`${address}.${attr}`];
      if (sample !== undefined) return sample;
      throw new Error(`no sample value for ${address}.${attr}`);
    },
  };
  return ctx;
}

export function workerEnvironment(overrides: Record<string, unknown> = {}): Record<string, string> {
  const ctx = context(overrides);
  const env = tf.locals.get('worker_environment') as Record<string, string>;
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(evaluateTemplate(v, ctx))]));
}

/**
 * The error messages of a variable's validations that refuse `value`, the other variables taken
 * from the example tfvars (and `others`), as `terraform plan` would report them.
 */
export function validationErrors(name: string, value: unknown, others: Record<string, unknown> = {}): string[] {
  const ctx = context({ ...others, [name]: value });
  return blocks(mustGet(tf.variables, name), 'validation')
    .filter((v) => evaluateTemplate(str(v.condition), ctx) !== true)
    .map((v) => str(v.error_message));
}
