import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, LoggingFormat, Runtime } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface SentinelFunctionProps {
  /** Absolute path of the TypeScript entry file. */
  readonly entry: string;
  /** Folder holding package.json and package-lock.json (esbuild resolves dependencies from there). */
  readonly projectRoot: string;
  readonly description?: string;
  readonly environment: Readonly<Record<string, string>>;
  /** esbuild `define` replacements: values are JavaScript source text. */
  readonly define?: Readonly<Record<string, string>>;
  /** Receives asynchronous invocations that still fail after their retries. */
  readonly deadLetterQueue: IQueue;
}

/** Bundles the banner needs: esbuild's ESM output cannot `require` the CommonJS dependencies it inlines. */
const ESM_REQUIRE_BANNER =
  "import { createRequire } from 'module'; const require = createRequire(import.meta.url);";

/** A Node.js Lambda function with the project's defaults: one place to change runtime, logs, bundling. */
export class SentinelFunction extends Construct {
  readonly fn: NodejsFunction;
  readonly logGroup: LogGroup;
  readonly role: Role;

  constructor(scope: Construct, id: string, props: SentinelFunctionProps) {
    super(scope, id);
    this.logGroup = new LogGroup(this, 'LogGroup', {
      retention: RetentionDays.THREE_MONTHS,
      // Logs are diagnostics, not records; they go with the stack.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // An empty role plus a grant on this one log group, instead of the broad AWSLambdaBasicExecutionRole.
    const role = new Role(this, 'Role', { assumedBy: new ServicePrincipal('lambda.amazonaws.com') });
    this.logGroup.grantWrite(role);
    this.role = role;

    this.fn = new NodejsFunction(this, 'Function', {
      entry: props.entry,
      handler: 'handler',
      projectRoot: props.projectRoot,
      depsLockFilePath: `${props.projectRoot}/package-lock.json`,
      description: props.description,
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: 1024,
      timeout: Duration.minutes(5),
      role,
      logGroup: this.logGroup,
      loggingFormat: LoggingFormat.JSON,
      environment: { NODE_OPTIONS: '--enable-source-maps', ...props.environment },
      retryAttempts: 2,
      maxEventAge: Duration.hours(1),
      deadLetterQueue: props.deadLetterQueue,
      bundling: {
        minify: true,
        sourceMap: true,
        format: OutputFormat.ESM,
        target: 'node24',
        mainFields: ['module', 'main'],
        banner: ESM_REQUIRE_BANNER,
        // Bundle the AWS SDK too: the versions the tests ran against, not the runtime's.
        externalModules: [],
        define: { ...props.define },
        // Local esbuild only; there may be no Docker engine where this synthesizes.
        forceDockerBundling: false,
      },
    });
  }
}
