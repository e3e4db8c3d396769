export {
  AndNode,
  CompareNode,
  FunctionCallNode,
  IdentifierNode,
  LiteralNode,
  MacroNode,
  OrNode,
  PlaceholderNode,
  baseOp,
  isAnyOfOp,
  type BaseCompareOp,
  type CompareOp,
  type FilterNode,
  type LiteralValue,
  type MacroName,
  type Modifier,
  type OperandNode,
} from './ast.js'
export { bindPlaceholders, type FilterParams } from './bind.js'
export { compileComparison, type Operand } from './compare.js'
export { compileFilter, type CompileOptions } from './compile.js'
export { FilterError, FilterResolveError, FilterSyntaxError } from './errors.js'
export { filterDialect, type FilterDialect, type JsonLiteral } from './filter-dialect.js'
export {
  MAX_FILTER_DEPTH,
  MAX_FILTER_EXPRESSIONS,
  MAX_FILTER_LENGTH,
  MAX_JOINS_PER_QUERY,
  MAX_SORT_FIELD_LENGTH,
  MAX_SORT_FIELDS,
} from './limits.js'
export { parseFilter } from './parse.js'
export type {
  FieldResolver,
  IsolatedValues,
  Join,
  MultiValuedOperand,
  OperandKind,
  Resolved,
  ResolvedOperand,
  ResolvedValue,
} from './resolve.js'
export { SimpleFieldResolver, type SimpleFieldResolverOptions } from './simple-resolver.js'
export { parseSort, type SortItem } from './sort.js'
