/**
 * The filter AST: immutable data, one interface per node kind plus a same-named factory object (the
 * kysely `operation-node` style). Every node records the source offset it came from.
 */

export const COMPARE_OPS = [
  '=',
  '!=',
  '>',
  '>=',
  '<',
  '<=',
  '~',
  '!~',
  '?=',
  '?!=',
  '?>',
  '?>=',
  '?<',
  '?<=',
  '?~',
  '?!~',
] as const
export type CompareOp = (typeof COMPARE_OPS)[number]
/** An operator without its any-of `?` prefix. */
export type BaseCompareOp = Exclude<CompareOp, `?${string}`>

export const MODIFIERS = ['each', 'length', 'lower', 'isset', 'changed'] as const
export type Modifier = (typeof MODIFIERS)[number]

export const MACROS = [
  '@now',
  '@yesterday',
  '@tomorrow',
  '@todayStart',
  '@todayEnd',
  '@monthStart',
  '@monthEnd',
  '@yearStart',
  '@yearEnd',
  '@second',
  '@minute',
  '@hour',
  '@weekday',
  '@day',
  '@month',
  '@year',
] as const
export type MacroName = (typeof MACROS)[number]

export type LiteralValue = string | number | boolean | null

/** A field path such as `title`, `author.name`, `@request.auth.id` or `@collection.posts:p.title`. */
export interface IdentifierNode {
  readonly kind: 'Identifier'
  /** The path without its modifier. */
  readonly path: string
  readonly modifier?: Modifier
  readonly position: number
}

export interface LiteralNode {
  readonly kind: 'Literal'
  readonly value: LiteralValue
  readonly position: number
}

/** An unbound `{:name}`; `bindPlaceholders` turns it into a `LiteralNode`. */
export interface PlaceholderNode {
  readonly kind: 'Placeholder'
  readonly name: string
  readonly position: number
}

export interface FunctionCallNode {
  readonly kind: 'FunctionCall'
  readonly name: string
  readonly args: readonly OperandNode[]
  readonly position: number
}

/** A datetime macro such as `@now`, evaluated when the filter is compiled. */
export interface MacroNode {
  readonly kind: 'Macro'
  readonly name: MacroName
  readonly position: number
}

export type OperandNode = IdentifierNode | LiteralNode | PlaceholderNode | FunctionCallNode | MacroNode

export interface CompareNode {
  readonly kind: 'Compare'
  readonly op: CompareOp
  readonly left: OperandNode
  readonly right: OperandNode
  readonly position: number
}

export interface AndNode {
  readonly kind: 'And'
  readonly operands: readonly FilterNode[]
}

export interface OrNode {
  readonly kind: 'Or'
  readonly operands: readonly FilterNode[]
}

export type FilterNode = AndNode | OrNode | CompareNode

const freeze = Object.freeze

export const IdentifierNode = freeze({
  is: (node: { kind: string }): node is IdentifierNode => node.kind === 'Identifier',
  create(path: string, position = 0, modifier?: Modifier): IdentifierNode {
    return freeze(
      modifier === undefined
        ? { kind: 'Identifier', path, position }
        : { kind: 'Identifier', path, modifier, position },
    )
  },
})

export const LiteralNode = freeze({
  is: (node: { kind: string }): node is LiteralNode => node.kind === 'Literal',
  create: (value: LiteralValue, position = 0): LiteralNode => freeze({ kind: 'Literal', value, position }),
})

export const PlaceholderNode = freeze({
  is: (node: { kind: string }): node is PlaceholderNode => node.kind === 'Placeholder',
  create: (name: string, position = 0): PlaceholderNode => freeze({ kind: 'Placeholder', name, position }),
})

export const FunctionCallNode = freeze({
  is: (node: { kind: string }): node is FunctionCallNode => node.kind === 'FunctionCall',
  create: (name: string, args: readonly OperandNode[], position = 0): FunctionCallNode =>
    freeze({ kind: 'FunctionCall', name, args: freeze([...args]), position }),
})

export const MacroNode = freeze({
  is: (node: { kind: string }): node is MacroNode => node.kind === 'Macro',
  create: (name: MacroName, position = 0): MacroNode => freeze({ kind: 'Macro', name, position }),
})

export const CompareNode = freeze({
  is: (node: { kind: string }): node is CompareNode => node.kind === 'Compare',
  create: (op: CompareOp, left: OperandNode, right: OperandNode, position = 0): CompareNode =>
    freeze({ kind: 'Compare', op, left, right, position }),
})

export const AndNode = freeze({
  is: (node: { kind: string }): node is AndNode => node.kind === 'And',
  create: (operands: readonly FilterNode[]): AndNode =>
    freeze({ kind: 'And', operands: freeze([...operands]) }),
})

export const OrNode = freeze({
  is: (node: { kind: string }): node is OrNode => node.kind === 'Or',
  create: (operands: readonly FilterNode[]): OrNode =>
    freeze({ kind: 'Or', operands: freeze([...operands]) }),
})

/** `?=` → `=`: on single-valued operands the any-of form means the same as the plain one. */
export function baseOp(op: CompareOp): BaseCompareOp {
  return (op.startsWith('?') ? op.slice(1) : op) as BaseCompareOp
}

export function isAnyOfOp(op: CompareOp): boolean {
  return op.startsWith('?')
}

/** The `default:` of an exhaustive switch: a new node kind fails to compile until it is handled. */
export function assertNever(value: never): never {
  throw new Error(`unexpected node ${JSON.stringify(value)}`)
}
