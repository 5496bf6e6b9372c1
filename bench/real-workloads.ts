// Scripts the real-program benchmarks run (bench/programs.ts as whole processes against qemu-riscv32;
// bench/lua-exits.ts in-process, for the translator's figures), kept in one place so both measure the same work.

/** Lua: recursive calls, a 200k-element table sort, string formatting and gsub with a callback. */
export const LUA_MIX = `
local function fib(n) if n < 2 then return n end return fib(n - 1) + fib(n - 2) end
local t = {}
for i = 1, 200000 do t[i] = (i * 7919) % 100003 end
table.sort(t)
local parts = {}
for i = 1, 30000 do parts[#parts + 1] = string.format("%d:%s", i, tostring(i * 3)) end
local s = table.concat(parts, ","):gsub("%d+", function(d) return #d end)
print(fib(27), t[1], t[#t], #s)
`;

/** Lua: objects, closures and string keys — method calls through metatables, as Lua programs are written. */
export const LUA_OBJECTS = `
local Point = {}
Point.__index = Point
function Point.new(x, y) return setmetatable({ x = x, y = y }, Point) end
function Point:add(o) return Point.new(self.x + o.x, self.y + o.y) end
function Point:len2() return self.x * self.x + self.y * self.y end
local acc, total = Point.new(0, 0), 0
for i = 1, 300000 do
  acc = acc:add(Point.new(i % 7, i % 11))
  total = total + acc:len2() % 1000
end
local counters = {}
for i = 1, 100000 do
  local key = "k" .. (i % 977)
  counters[key] = (counters[key] or 0) + 1
end
local n = 0
for _, v in pairs(counters) do n = n + v end
print(acc.x, acc.y, total, n)
`;

/** SQLite: 60k rows inserted through a recursive CTE, an index built, aggregates over all of them. */
export const SQL_ROWS = `
create table t(id integer primary key, k integer, v text);
with recursive c(i) as (select 1 union all select i + 1 from c where i < 60000)
insert into t(k, v) select (i * 7919) % 1000, 'row ' || i from c;
create index t_k on t(k);
select count(*), sum(k), min(v), max(v) from t;
`;

/** SQL_ROWS, then a grouped range scan through the index and a self-join. */
export const SQL_ROWS_AND_JOIN = SQL_ROWS + `select k, count(*), sum(length(v)) from t where k between 10 and 20 group by k order by k;
select count(*) from t a join t b on a.id = b.k + 1 where a.k < 100;
`;
