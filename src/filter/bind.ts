import { formatDateTime } from '../lib/index.js'
import {
  AndNode,
  CompareNode,
  FunctionCallNode,
  LiteralNode,
  OrNode,
  assertNever,
  type FilterNode,
  type LiteralValue,
  type OperandNode,
} from './ast.js'
import { FilterSyntaxError } from './errors.js'

/** Values for `{:name}` placeholders. */
export type FilterParams = Readonly<Record<string, unknown>>

/**
 * Replaces every `{:name}` with the literal `params[name]`. The value becomes a node, never source
 * text, so it cannot change the shape of the expression.
 */
export function bindPlaceholders(node: FilterNode, params: FilterParams): FilterNode {
  switch (node.kind) {
    case 'And':
      return AndNode.create(node.operands.map((n) => bindPlaceholders(n, params)))
    case 'Or':
      return OrNode.create(node.operands.map((n) => bindPlaceholders(n, params)))
    case 'Compare':
      return CompareNode.create(
        node.op,
        bindOperand(node.left, params),
        bindOperand(node.right, params),
        node.position,
      )
    default:
      return assertNever(node)
  }
}

function bindOperand(node: OperandNode, params: FilterParams): OperandNode {
  switch (node.kind) {
    case 'Placeholder':
      if (!Object.hasOwn(params, node.name)) {
        throw new FilterSyntaxError(`missing value for placeholder {:${node.name}}`, node.position)
      }
      return LiteralNode.create(toLiteralValue(params[node.name], node.position), node.position)
    case 'FunctionCall':
      return FunctionCallNode.create(
        node.name,
        node.args.map((a) => bindOperand(a, params)),
        node.position,
      )
    case 'Identifier':
    case 'Literal':
    case 'Macro':
      return node
    default:
      return assertNever(node)
  }
}

/** The conversions of the SDK's client-side `pb.filter()`, so both forms of a filter mean the same. */
function toLiteralValue(value: unknown, position: number): LiteralValue {
  if (value === null || value === undefined) return null
  if (typeof value === 'boolean') return value
  if (typeof value === 'string') {
    if (value.includes('\0'))
      throw new FilterSyntaxError('invalid NUL character in placeholder value', position)
    return value
  }
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new FilterSyntaxError('invalid placeholder value', position)
    return value
  }
  if (typeof value === 'bigint') return Number(value)
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new FilterSyntaxError('invalid placeholder value', position)
    return formatDateTime(value)
  }
  if (typeof value === 'object') return JSON.stringify(value)
  throw new FilterSyntaxError('invalid placeholder value', position)
}
