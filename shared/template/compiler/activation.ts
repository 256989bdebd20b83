// Runtime state of a compiled template: one Activation per call of a function of the generated code, and the
// compile-time scopes that decide which activation (and which slot in it) holds each `var`.
import { RenderBudget, unlimited } from "../budget";
import type {
  Context,
  Environment,
  Frame,
  NodeCallback,
  RenderFunction,
  Runtime,
  TemplateValue,
} from "./nunjucks-types";

/** A compiled expression: evaluates to a value in an activation. */
export type Evaluate = (act: Activation) => TemplateValue;
/** A compiled statement or region: runs for its effects (buffer appends, frame writes, callbacks). */
export type Execute = (act: Activation) => void;

/** Compile-time description of one JavaScript function of the generated code: the owner of its `var` slots. */
export class FunctionScope {
  size = 0;
  constructor(readonly parent: FunctionScope | null) {}
  allocate(): VarSlot {
    return { scope: this, index: this.size++ };
  }
}
/** One `var` of the generated code: its index in the activations of the function that declares it. */
export interface VarSlot {
  scope: FunctionScope;
  index: number;
}

/** How many functions out `target` is from `current` (-1: not enclosing it, a ReferenceError in the generated code). */
export function scopeDistance(target: FunctionScope, current: FunctionScope): number {
  let distance = 0;
  for (let scope: FunctionScope | null = current; scope; scope = scope.parent, distance++)
    if (scope === target) return distance;
  return -1;
}

/** Per-Template instance: template name and its own block functions (identity matters for `super`). */
export interface TemplateInstance {
  name: string | undefined;
  blocks: Record<string, RenderFunction>;
}

/**
 * One activation of a JavaScript function of the generated code: its `var`s (`slots`), the activation of the
 * function it is nested in (`parent`), its `cb`, and `entry`, the activation of the enclosing root or b_<block>
 * function, which alone fills the fields after `cb` (that function's `frame`, `lineno`, `colno`,
 * `parentTemplate`…). One class for both keeps property access monomorphic.
 */
export class Activation {
  // Plain assignments in the constructor, not class-field initialisers: V8 allocates these faster.
  declare readonly slots: TemplateValue[];
  declare readonly parent: Activation | null;
  declare entry: Activation;
  declare cb: NodeCallback;
  declare env: Environment;
  declare context: Context;
  declare frame: Frame;
  declare runtime: Runtime;
  declare instance: TemplateInstance;
  declare lineno: number;
  declare colno: number;
  declare parentTemplate: { rootRenderFunc: RenderFunction } | null;
  declare budget: RenderBudget;
  /** budget.limits.maxOutputBytes, read on every buffer append. */
  declare maxOutputBytes: number;
  constructor(size: number, parent: Activation | null, entry: Activation | null, cb: NodeCallback) {
    const slots = new Array(size);
    for (let i = 0; i < size; i++) slots[i] = undefined;
    (this as { slots: TemplateValue[] }).slots = slots;
    (this as { parent: Activation | null }).parent = parent;
    this.entry = entry ?? this;
    this.cb = cb;
    this.env = null as unknown as Environment;
    this.context = null as unknown as Context;
    this.frame = null as unknown as Frame;
    this.runtime = null as unknown as Runtime;
    this.instance = null as unknown as TemplateInstance;
    this.lineno = 0;
    this.colno = 0;
    this.parentTemplate = null;
    this.budget = null as unknown as RenderBudget;
    this.maxOutputBytes = 0;
  }
}

/** The activation `distance` functions out (see scopeDistance). */
export function activationAt(act: Activation, distance: number): Activation {
  let outer: Activation = act;
  for (let k = 0; k < distance; k++) outer = outer.parent as Activation;
  return outer;
}

/** The activation of a root or b_<block> function, as nunjucks calls it. */
export function entryActivation(
  size: number,
  cb: NodeCallback,
  env: Environment,
  context: Context,
  frame: Frame,
  runtime: Runtime,
  instance: TemplateInstance,
  lineno: number,
  colno: number,
): Activation {
  const act = new Activation(size, null, null, cb);
  act.env = env;
  act.context = context;
  act.frame = frame;
  act.runtime = runtime;
  act.instance = instance;
  act.lineno = lineno;
  act.colno = colno;
  const budget: RenderBudget = context.kgenBudget ?? fallbackBudget();
  act.budget = budget;
  act.maxOutputBytes = budget.limits.maxOutputBytes;
  return act;
}

let sharedUnlimited: RenderBudget | null = null;
/** A context rendered outside the engine carries no budget: it runs unlimited. */
function fallbackBudget(): RenderBudget {
  if (!sharedUnlimited) sharedUnlimited = new RenderBudget(unlimited);
  return sharedUnlimited;
}
